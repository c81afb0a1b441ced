import type { StorageKey } from '@valv/storage'

/**
 * Keys are stored as `(parent, name)`: `parent` is the segments before the last joined with
 * U+0001, `name` the last segment. U+0001 sorts below every segment character, so all keys
 * below one prefix form one contiguous range of `parent` in the BINARY (byte) collation,
 * which makes prefix deletes and the skip scan in `listChildren` plain index range scans.
 */
export const SEP = '\u0001'
/** One above {@link SEP}: the exclusive end of a subtree's range. */
export const SEP_END = '\u0002'

/** The `parent` column value for entries directly below `prefix`. */
export const pathOf = (prefix: StorageKey): string => prefix.join(SEP)

/** `(parent, name)` of a key. */
export const split = (key: StorageKey): [string, string] => [pathOf(key.slice(0, -1)), key.at(-1)!]
