import type { DeviceVault } from '@valv/crypto'
import type { DocKind } from './documents.js'

/** A document in this user's drive list. */
export interface DriveEntry {
  readonly docId: string
  readonly title: string
  readonly kind: DocKind
  readonly folder: string
}

// The drive list (titles are content the relay may not read) lives encrypted in the device
// vault, never in plaintext `localStorage`. It is read once when the vault is unlocked.
const RECORD = 'portal.drive'
const LEGACY = (userId: string) => `valv.portal.drive.${userId}`

let vault: DeviceVault | undefined
let entries: DriveEntry[] = []

/**
 * Load the drive list from the unlocked `v`. A list an older portal kept in plaintext
 * `localStorage` moves into the vault and is deleted there.
 */
export async function openDrive(v: DeviceVault, userId: string): Promise<void> {
  vault = v
  const bytes = await v.get(RECORD)
  entries = bytes === undefined ? [] : (JSON.parse(new TextDecoder().decode(bytes)) as DriveEntry[])
  const legacy = localStorage.getItem(LEGACY(userId))
  if (legacy !== null) {
    try {
      const old = JSON.parse(legacy) as DriveEntry[]
      const known = new Set(entries.map((e) => e.docId))
      entries = [...entries, ...old.filter((e) => !known.has(e.docId))]
      await persist()
    } catch {
      // Unreadable: nothing to keep.
    }
    localStorage.removeItem(LEGACY(userId))
  }
}

async function persist(): Promise<void> {
  if (vault === undefined) throw new Error('the vault is locked')
  await vault.put(RECORD, new TextEncoder().encode(JSON.stringify(entries)))
}

/** Every document this user has created or joined here. */
export function listDrive(): DriveEntry[] {
  return [...entries]
}

/** Add or update an entry (stored encrypted in the vault). */
export function saveDriveEntry(entry: DriveEntry): Promise<void> {
  entries = [...entries.filter((e) => e.docId !== entry.docId), entry]
  return persist()
}

/** Folder names in use, sorted. */
export function folders(): string[] {
  return [...new Set(entries.map((e) => e.folder))].filter(Boolean).sort()
}
