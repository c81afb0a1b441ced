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
  const to = new Map<number, number>()
  const length = new Map<number, number>()
  for (const u of updates) {
    const meta = Y.parseUpdateMeta(u)
    for (const [client, clock] of meta.from) {
      const seen = from.get(client)
      if (seen === undefined || clock < seen) from.set(client, clock)
      const end = meta.to.get(client) ?? clock
      to.set(client, Math.max(end, to.get(client) ?? 0))
      length.set(client, (length.get(client) ?? 0) + end - clock)
    }
  }
  const sv = Y.decodeStateVector(Y.encodeStateVector(doc))
  // The diff holds everything from the lowest clock up to the document's head: exact only if
  // the updates cover that range without a hole. A hole (an envelope already sent, a resealed
  // old one) or newer local edits (still in the batch window) would go out twice: merge then.
  for (const [client, start] of from) {
    const exact = length.get(client) === (to.get(client) ?? 0) - start
    if (!exact || sv.get(client) !== to.get(client)) {
      return Y.mergeUpdates(updates as Uint8Array[])
    }
  }
  for (const [client, clock] of from) sv.set(client, clock)
  return Y.encodeStateAsUpdate(doc, Y.encodeStateVector(sv))
}
