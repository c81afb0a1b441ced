import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { coalesceUpdates } from '../src/coalesce.js'

/** `n` one-character local updates of a fresh document. */
function keystrokes(n: number): { doc: Y.Doc; updates: Uint8Array[] } {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  const t = doc.getText('t')
  for (let i = 0; i < n; i++) t.insert(t.length, 'x')
  return { doc, updates }
}

const range = (u: Uint8Array, client: number) => {
  const meta = Y.parseUpdateMeta(u)
  return [meta.from.get(client), meta.to.get(client)]
}

describe('coalesceUpdates', () => {
  it('a long contiguous queue becomes one diff holding exactly its structs', () => {
    const { doc, updates } = keystrokes(100)
    const merged = coalesceUpdates(doc, updates.slice(20))
    expect(range(merged, doc.clientID)).toEqual([20, 100])
  })

  it('never adds what is not in the queue: a hole, or newer local edits', () => {
    const { doc, updates } = keystrokes(100)
    // Update 30 was sent already (it may be stored): the merge must not carry it again.
    const holed = [...updates.slice(20, 30), ...updates.slice(31)]
    const merged = coalesceUpdates(doc, holed)
    const meta = Y.parseUpdateMeta(merged)
    expect(meta.from.get(doc.clientID)).toBe(20)
    const other = new Y.Doc()
    for (const u of updates.slice(0, 20)) Y.applyUpdate(other, u)
    Y.applyUpdate(other, merged)
    // 30 is not in the merge: the reader integrates up to it, the rest waits for it.
    expect(Y.decodeStateVector(Y.encodeStateVector(other)).get(doc.clientID)).toBe(30)
    // Edits still in the batch window (clock 100..) are not in a merge of 20..99 either.
    const t = doc.getText('t')
    t.insert(t.length, 'y')
    expect(range(coalesceUpdates(doc, updates.slice(20, 100)), doc.clientID)).toEqual([20, 100])
  })
})
