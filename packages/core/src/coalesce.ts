import * as Y from 'yjs'

/** Queued updates merged with `Y.mergeUpdates` at most; beyond, a diff of the document. */
const MAX_MERGE = 64

/**
 * One update holding every struct and deletion of `updates`, all local updates of `doc` (a
 * queue of unsent edits). Few are merged with `Y.mergeUpdates`, which is super-linear; many
 * (thousands of keystrokes made offline) are encoded as a diff of the document from the lowest
 * clock each of their client ids had, in one pass, as the batcher does for a large burst.
 */
export function coalesceUpdates(doc: Y.Doc, updates: readonly Uint8Array[]): Uint8Array {
  if (updates.length === 1) return updates[0] as Uint8Array
  if (updates.length <= MAX_MERGE) return Y.mergeUpdates(updates as Uint8Array[])
  const from = new Map<number, number>()
  for (const u of updates) {
    for (const [client, clock] of Y.parseUpdateMeta(u).from) {
      const seen = from.get(client)
      if (seen === undefined || clock < seen) from.set(client, clock)
    }
  }
  const sv = Y.decodeStateVector(Y.encodeStateVector(doc))
  for (const [client, clock] of from) sv.set(client, clock)
  return Y.encodeStateAsUpdate(doc, Y.encodeStateVector(sv))
}
