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

/** Object name of the blob stored at `key`. */
export function blobObject(prefix: string, key: StorageKey): string {
  return `${prefix}${key.join('/')}${BLOB_MARK}`
}
