import { join } from 'node:path'
import type { StorageKey } from '@valv/storage'

/**
 * On-disk layout. A key `[a, b, c]` is the file `a/b/c@v` (a value) or `a/b/c@b` (a blob)
 * below the root, so one segment can be a value, a blob and a directory of deeper keys at
 * once. `@` is outside the segment alphabet, so no name can collide. Temporary files
 * (`@tmp-<pid>-<random>`) and directories being deleted (`@trash-<pid>-<random>`) live in the
 * root only, so recovery after a crash looks at one directory.
 */
export const VALUE_SUFFIX = '@v'
/** Suffix of blob files. */
export const BLOB_SUFFIX = '@b'
/** Prefix of files being written. */
export const TMP_PREFIX = '@tmp-'
/** Prefix of directories being deleted. */
export const TRASH_PREFIX = '@trash-'

/** The directory holding the entries of `key`'s last segment. */
export const dirOf = (root: string, key: StorageKey): string => join(root, ...key.slice(0, -1))
/** The directory for a prefix. */
export const dirFor = (root: string, prefix: StorageKey): string => join(root, ...prefix)
/** Path of the value file of `key`. */
export const valuePath = (root: string, key: StorageKey): string =>
  join(root, ...key.slice(0, -1), `${key.at(-1)}${VALUE_SUFFIX}`)
/** Path of the blob file of `key`. */
export const blobPath = (root: string, key: StorageKey): string =>
  join(root, ...key.slice(0, -1), `${key.at(-1)}${BLOB_SUFFIX}`)

/** The key segment a directory entry stands for, or undefined for internal files. */
export function segmentOf(name: string, isDirectory: boolean): string | undefined {
  if (name.includes('@')) {
    if (isDirectory) return undefined
    if (name.endsWith(VALUE_SUFFIX) || name.endsWith(BLOB_SUFFIX)) return name.slice(0, -2)
    return undefined
  }
  return isDirectory ? name : undefined
}
