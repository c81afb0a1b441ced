/**
 * Compare two `(key, id)` pairs: by fractional key, then by id, so equal keys (given to two items
 * concurrently) still sort the same way on every replica.
 */
export function compareOrderKeys(
  a: readonly [string, string],
  b: readonly [string, string],
): number {
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0
}

/** Ids of `[id, key]` entries in display order. */
export function orderedIds(entries: Iterable<readonly [string, string]>): string[] {
  return [...entries].sort(compareOrderKeys).map(([id]) => id)
}
