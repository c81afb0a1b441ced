import type { StorageKey } from '@valv/storage'

// IndexedDB orders array keys element by element and strings by UTF-16 code unit; for the
// ASCII segment alphabet that is exactly the byte order the StorageAdapter contract defines.
// A leading tag keeps the namespaces apart: values, blob descriptors, blob chunks.

/** Record key of the value at `key`. */
export const valueKey = (key: StorageKey): IDBValidKey[] => ['v', ...key]
/** Record key of the blob descriptor at `key`. */
export const blobKey = (key: StorageKey): IDBValidKey[] => ['b', ...key]

/**
 * Every record of namespace `tag` whose key starts with `prefix` (the prefix itself included).
 * An empty array sorts after every number and string, so `[...prefix, []]` closes the subtree.
 */
export function subtree(tag: string, prefix: StorageKey): IDBKeyRange {
  return IDBKeyRange.bound([tag, ...prefix], [tag, ...prefix, []], false, true)
}

/**
 * Chunks of blob `id` at `key`: `['c', ...key, id, seq]`. Numbers sort before strings, so
 * these never interleave with chunks of blobs stored below `key`.
 */
export function chunkKey(key: StorageKey, id: number, seq: number): IDBValidKey[] {
  return ['c', ...key, id, seq]
}

/** All chunks of blob `id` at `key`. */
export function chunksOf(key: StorageKey, id: number): IDBKeyRange {
  return IDBKeyRange.bound(['c', ...key, id], ['c', ...key, id, []], false, true)
}

/** All chunks of any upload (finished or abandoned) at exactly `key`. */
export function allChunksAt(key: StorageKey): IDBKeyRange {
  return IDBKeyRange.bound(
    ['c', ...key, Number.NEGATIVE_INFINITY],
    ['c', ...key, Number.POSITIVE_INFINITY],
  )
}
