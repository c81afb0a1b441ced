import type { StorageKey } from '@valv/storage'

/**
 * The smallest `text[]` greater than every key that starts with `prefix`, or `null` for the
 * empty prefix (no bound). Arrays compare element-wise and segments only use characters above
 * U+0001, so bumping the last segment by `\u0001` skips exactly the prefix's subtree.
 */
export function subtreeEnd(prefix: StorageKey): string[] | null {
  const last = prefix[prefix.length - 1]
  if (last === undefined) return null
  return [...prefix.slice(0, -1), `${last}\u0001`]
}
