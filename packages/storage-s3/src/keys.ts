import type { StorageKey } from '@valv/storage'

/**
 * Object-key layout. Segments are joined by `/` (so consoles show folders) and every object
 * name ends in a marker outside the segment alphabet: `!v` for a value, `!b` for a blob.
 * The marker keeps the two namespaces apart, and because `!` sorts below every segment
 * character, S3's byte-ordered listing returns `k!v` exactly where `k` belongs among its
 * siblings. It also means no object name is ever a "folder" of another, which MinIO requires.
 */
export const VALUE_MARK = '!v'
/** Marker of a blob object; see {@link VALUE_MARK}. */
export const BLOB_MARK = '!b'

/** `prefix` + segments joined by `/`, with a trailing `/` unless the key is empty. */
export function folderOf(prefix: string, key: StorageKey): string {
  return key.length === 0 ? prefix : `${prefix}${key.join('/')}/`
}

/** Object name of the value stored at `key`. */
export function valueObject(prefix: string, key: StorageKey): string {
  return `${prefix}${key.join('/')}${VALUE_MARK}`
}

/**
 * Listing prefix of every stored version of the blob at `key`. Blobs are write-once objects
 * `key!b!<version>`: a new `putStream` never overwrites the object a reader or a concurrent
 * writer uses, so the newest complete version is always whole, whatever the server does
 * with overwrites (s3rver, for one, rewrites the file in place).
 */
export function blobObject(prefix: string, key: StorageKey): string {
  return `${prefix}${key.join('/')}${BLOB_MARK}`
}

/** Object name of one version of a blob; versions sort in byte order. */
export function blobVersion(prefix: string, key: StorageKey, version: string): string {
  return `${blobObject(prefix, key)}!${version}`
}

const VERSION_DIGITS = 16

/**
 * A version above `newest` (a version or object name) and at least the current time, so a
 * write that starts after another finished always sorts after it, even between processes
 * whose clocks disagree. The random tail keeps two concurrent writers apart.
 */
export function nextVersion(newest: string | undefined, now = Date.now()): string {
  const last = newest === undefined ? -1 : Number(/!(\d{16})-/.exec(newest)?.[1] ?? -1)
  const time = Math.max(now, last + 1)
  const tail = Array.from(globalThis.crypto.getRandomValues(new Uint8Array(6)), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('')
  return `${String(time).padStart(VERSION_DIGITS, '0')}-${tail}`
}

/** The segment an entry below a folder names (`seg!v`, `seg!b`, `seg!b!<version>`, `seg/`). */
export function segmentOfName(name: string): string {
  if (name.endsWith('/')) return name.slice(0, -1)
  const mark = name.indexOf('!')
  return mark === -1 ? name : name.slice(0, mark)
}
