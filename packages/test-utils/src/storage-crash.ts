/**
 * Fixtures of the durable adapters' crash and full-disk tests (`storage-fs`, `storage-sqlite`):
 * deterministic data a killed child writes and its parent checks, and a real full disk.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Deterministic envelope bytes for `seq` (sizes 100..4195 B), so the parent can verify them. */
export function envelope(seq: number): Uint8Array {
  const out = new Uint8Array(100 + ((seq * 7919) % 4096))
  for (let i = 0; i < out.length; i++) out[i] = (seq * 31 + i) & 0xff
  return out
}

/** Deterministic snapshot bytes standing for the state up to `seq`. */
export function snapshotBytes(seq: number): Uint8Array {
  const out = new Uint8Array(20_000)
  for (let i = 0; i < out.length; i++) out[i] = (seq + i * 13) & 0xff
  return out
}

/** Size of the blob the child rewrites in the background. */
export const BLOB_BYTES = 4 << 20

/** The background blob, version `n`, as 64 KiB pieces; byte 0..3 hold `n`. */
export async function* blobVersion(n: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < BLOB_BYTES; offset += 65536) {
    const piece = new Uint8Array(65536)
    for (let i = 0; i < piece.length; i++) piece[i] = (n + offset + i) & 0xff
    if (offset === 0) new DataView(piece.buffer).setUint32(0, n)
    yield piece
    await new Promise((r) => setImmediate(r))
  }
}

/** Throws unless `bytes` is exactly one whole version of the background blob. */
export function checkBlob(bytes: Uint8Array): void {
  if (bytes.length !== BLOB_BYTES) throw new Error(`torn blob: ${bytes.length} bytes`)
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0)
  for (let i = 4; i < bytes.length; i++) {
    if (bytes[i] !== ((n + i) & 0xff)) throw new Error(`torn blob at byte ${i}`)
  }
}

/**
 * Run `body` on a freshly mounted 1 MiB tmpfs (a real full disk) when this process may mount
 * (root in a container with CAP_SYS_ADMIN); returns false without running it otherwise.
 */
export async function onTinyTmpfs(body: (dir: string) => Promise<void>): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'valv-tmpfs-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' })
  } catch {
    rmSync(dir, { recursive: true, force: true })
    return false
  }
  try {
    await body(dir)
    return true
  } finally {
    execFileSync('umount', [dir], { stdio: 'ignore' })
    rmSync(dir, { recursive: true, force: true })
  }
}
