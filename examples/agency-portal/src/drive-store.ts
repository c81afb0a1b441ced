import type { DocKind } from './documents.js'

/** A document in this user's drive list. */
export interface DriveEntry {
  readonly docId: string
  readonly title: string
  readonly kind: DocKind
  readonly folder: string
}

// The drive list is kept per identity on this device; the shared drive model of @valv/models
// is planned and will replace it.
const key = (userId: string) => `valv.portal.drive.${userId}`

/** Every document this user has created or joined here. */
export function listDrive(userId: string): DriveEntry[] {
  try {
    return JSON.parse(localStorage.getItem(key(userId)) ?? '[]') as DriveEntry[]
  } catch {
    return []
  }
}

/** Add or update an entry. */
export function saveDriveEntry(userId: string, entry: DriveEntry): void {
  const rest = listDrive(userId).filter((e) => e.docId !== entry.docId)
  localStorage.setItem(key(userId), JSON.stringify([...rest, entry]))
}

/** Folder names in use, sorted. */
export function folders(userId: string): string[] {
  return [...new Set(listDrive(userId).map((e) => e.folder))].filter(Boolean).sort()
}
