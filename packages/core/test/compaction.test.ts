import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Compaction } from '../src/compaction.js'
import { decodeSnapshotBody } from '../src/snapshot.js'

/** Two writers' random edits, as the relay would order them: `[author, update]` by seq. */
const edits = fc.array(
  fc.tuple(fc.nat(1), fc.nat(30), fc.nat(4), fc.string({ minLength: 1, maxLength: 4 })),
  { minLength: 1, maxLength: 40 },
)

function log(ops: [number, number, number, string][]): { author: string; update: Uint8Array }[] {
  const docs = [new Y.Doc(), new Y.Doc()]
  const out: { author: string; update: Uint8Array }[] = []
  for (const [who, at, del, s] of ops) {
    const doc = docs[who] as Y.Doc
    const t = doc.getText('t')
    let update: Uint8Array | undefined
    const grab = (u: Uint8Array) => {
      update = u
    }
    doc.once('update', grab)
    doc.transact(() => {
      const i = Math.min(at, t.length)
      t.delete(i, Math.min(del, t.length - i))
      t.insert(i, s)
    })
    doc.off('update', grab)
    if (update === undefined) continue
    out.push({ author: `w${who}`, update })
    // Both writers see every update (the relay delivers it).
    Y.applyUpdate(docs[1 - who] as Y.Doc, update)
  }
  return out
}

describe('Compaction (deterministic snapshots)', () => {
  it('members holding the same updates build the same bytes, whatever their base (property)', () => {
    fc.assert(
      fc.property(edits, fc.nat(), fc.boolean(), (ops, cut, gc) => {
        const entries = log(ops)
        const n = entries.length
        const mid = n === 0 ? 0 : cut % n
        // One member recorded everything; another started from a snapshot at `mid`.
        const all = new Compaction(0)
        entries.forEach((e, i) => {
          all.record(i + 1, e.author, i + 1, e.update)
        })
        const full = all.build(n, gc)
        if (n === 0) return expect(full).toBeUndefined()
        const live = new Y.Doc({ gc })
        for (const e of entries) Y.applyUpdate(live, e.update)
        const body = decodeSnapshotBody((full as { body: Uint8Array }).body)
        const loaded = new Y.Doc()
        Y.applyUpdateV2(loaded, body.state)
        expect(loaded.getText('t').toString()).toBe(live.getText('t').toString())
        if (mid === 0) return
        const again = new Compaction(0)
        entries.forEach((e, i) => {
          if (i < mid) again.record(i + 1, e.author, i + 1, e.update)
        })
        const first = again.build(mid, gc) as { state: Uint8Array; counters: Map<string, number> }
        again.adopt({ upToSeq: mid, id: new Uint8Array(32).fill(1), ...first })
        entries.forEach((e, i) => {
          if (i >= mid) again.record(i + 1, e.author, i + 1, e.update)
        })
        const chained = again.build(n, gc) as { body: Uint8Array }
        const text = new Y.Doc()
        Y.applyUpdateV2(text, decodeSnapshotBody(chained.body).state)
        expect(text.getText('t').toString()).toBe(live.getText('t').toString())
        // Two members on the same base and updates agree byte for byte.
        const twin = new Compaction(0)
        entries.forEach((e, i) => {
          twin.record(i + 1, e.author, i + 1, e.update)
        })
        expect(twin.build(n, gc)?.body).toEqual(full?.body)
      }),
      { numRuns: 60 },
    )
  })

  it('has no base after resuming from local state, until it adopts a newer snapshot', () => {
    const c = new Compaction(7)
    expect(c.base).toBeUndefined()
    expect(c.build(9, true)).toBeUndefined()
    c.adopt({ upToSeq: 5, id: new Uint8Array(32), state: new Uint8Array(), counters: new Map() })
    expect(c.base).toBeUndefined()
    c.adopt({ upToSeq: 8, id: new Uint8Array(32), state: new Uint8Array(), counters: new Map() })
    expect(c.base?.upToSeq).toBe(8)
  })

  it('holds a bounded number of updates: beyond it, it gives up its base', () => {
    const c = new Compaction(0, 3)
    for (let seq = 1; seq <= 3; seq++) c.record(seq, 'a', seq, new Uint8Array([0, 0]))
    expect(c.build(3, true)).toBeDefined()
    c.record(4, 'a', 4, new Uint8Array([0, 0]))
    expect(c.base).toBeUndefined()
    c.adopt({ upToSeq: 3, id: new Uint8Array(32), state: new Uint8Array(), counters: new Map() })
    expect(c.base).toBeUndefined()
    c.adopt({ upToSeq: 4, id: new Uint8Array(32), state: new Uint8Array(), counters: new Map() })
    expect(c.base?.upToSeq).toBe(4)
  })
})
