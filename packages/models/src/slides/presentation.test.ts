import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Presentation, type PresentationEvent, SlideError } from './index.js'

type Op =
  | { t: 'add'; at: number }
  | { t: 'move'; pick: number; to: number }
  | { t: 'remove'; pick: number }
  | { t: 'sync'; to: number }

const opArb = (n: number): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.record({ t: fc.constant('add'), at: fc.nat(8) }),
    fc.record({ t: fc.constant('move'), pick: fc.nat(8), to: fc.nat(8) }),
    fc.record({ t: fc.constant('move'), pick: fc.nat(8), to: fc.nat(8) }),
    fc.record({ t: fc.constant('remove'), pick: fc.nat(8) }),
    fc.record({ t: fc.constant('sync'), to: fc.nat(n - 1) }),
  ) as fc.Arbitrary<Op>

describe('presentation', () => {
  it('orders, moves and removes slides; validates input', () => {
    const deck = new Presentation(new Y.Doc())
    const a = deck.addSlide()
    const b = deck.addSlide()
    const c = deck.addSlide(0)
    expect(deck.slideIds()).toEqual([c, a, b])
    deck.moveSlide(c, 2)
    expect(deck.slideIds()).toEqual([a, b, c])
    deck.removeSlide(b)
    expect(deck.slideIds()).toEqual([a, c])
    expect(() => deck.moveSlide('nope', 0)).toThrowError(SlideError)
    expect(() => deck.moveSlide(a, 5)).toThrowError(
      expect.objectContaining({ code: 'out-of-range' }),
    )
    expect(deck.slideIds()).toEqual([a, c])
  })

  it('holds text boxes (XmlFragment), shapes and images with frames, z-order and notes', () => {
    const deck = new Presentation(new Y.Doc())
    const s = deck.addSlide()
    const t = deck.addElement(s, { kind: 'text' }, { x: 10, y: 10, width: 300, height: 80 })
    const r = deck.addElement(
      s,
      { kind: 'shape', shape: 'rect', fill: '#00f' },
      { x: 0, y: 0, width: 5, height: 5 },
    )
    const i = deck.addElement(
      s,
      { kind: 'image', blob: { blobId: 'blob-1', mimeType: 'image/png' } },
      { x: 1, y: 2, width: 3, height: 4 },
    )
    expect(deck.elementIds(s)).toEqual([t, r, i])
    deck.setZIndex(s, i, 0)
    expect(deck.elementIds(s)).toEqual([i, t, r])
    deck.setFrame(s, r, { x: 50 })
    expect(deck.getElement(s, r)).toMatchObject({ kind: 'shape', shape: 'rect', fill: '#00f' })
    expect(deck.getElement(s, r).frame).toEqual({ x: 50, y: 0, width: 5, height: 5 })
    expect(deck.getElement(s, i).blob).toEqual({ blobId: 'blob-1', mimeType: 'image/png' })
    const frag = deck.text(s, t)
    const p = new Y.XmlElement('paragraph')
    p.insert(0, [new Y.XmlText('Hello')])
    frag.insert(0, [p])
    expect(frag.toString()).toBe('<paragraph>Hello</paragraph>')
    deck.notes(s).insert(0, 'Say hi')
    expect(deck.notes(s).toString()).toBe('Say hi')
    expect(() => deck.text(s, r)).toThrowError(SlideError)
    expect(() => deck.setFrame(s, r, { width: -1 })).toThrowError(SlideError)
    expect(deck.getElement(s, r).frame.width).toBe(5)
  })

  it('applies a concurrent move and resize of one element, and orders tied z by id', () => {
    const a = new Y.Doc()
    const da = new Presentation(a)
    const s = da.addSlide()
    const e = da.addElement(
      s,
      { kind: 'shape', shape: 'ellipse' },
      { x: 0, y: 0, width: 1, height: 1 },
    )
    const b = new Y.Doc()
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    const db = new Presentation(b)
    da.setFrame(s, e, { x: 10, y: 20 })
    db.setFrame(s, e, { width: 30, height: 40 })
    const f = da.addElement(s, { kind: 'text' }, { x: 0, y: 0, width: 1, height: 1 })
    const g = db.addElement(s, { kind: 'text' }, { x: 0, y: 0, width: 1, height: 1 })
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    expect(da.getElement(s, e).frame).toEqual({ x: 10, y: 20, width: 30, height: 40 })
    expect(db.getElement(s, e).frame).toEqual(da.getElement(s, e).frame)
    expect(da.elementIds(s)).toEqual([e, ...[f, g].sort()])
    expect(db.elementIds(s)).toEqual(da.elementIds(s))
  })

  it('moves a slide between two slides that received equal keys concurrently', () => {
    const a = new Y.Doc()
    const da = new Presentation(a)
    const x = da.addSlide()
    const b = new Y.Doc()
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    const db = new Presentation(b)
    const p = da.addSlide(0)
    const q = db.addSlide(0)
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
    const [first, second] = [p, q].sort() as [string, string]
    expect(da.slideIds()).toEqual([first, second, x])
    da.moveSlide(x, 1)
    expect(da.slideIds()).toEqual([first, x, second])
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    expect(db.slideIds()).toEqual(da.slideIds())
  })

  it('emits slide-level events for remote moves', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    a.on('update', (u: Uint8Array) => Y.applyUpdate(b, u))
    const da = new Presentation(a)
    const db = new Presentation(b)
    const s1 = da.addSlide()
    const s2 = da.addSlide()
    const s3 = da.addSlide()
    const seen: PresentationEvent[] = []
    db.observe((e) => seen.push(e))
    da.moveSlide(s3, 0)
    expect(seen).toEqual([{ type: 'slide-moved', slideId: s3, from: 2, to: 0 }])
    expect(db.slideIds()).toEqual([s3, s1, s2])
    void s2
  })

  it('undo reverts only local edits', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    a.on('update', (u: Uint8Array) => Y.applyUpdate(b, u))
    b.on('update', (u: Uint8Array) => Y.applyUpdate(a, u))
    const da = new Presentation(a)
    const db = new Presentation(b)
    const undo = da.createUndoManager()
    const mine = da.addSlide()
    undo.stopCapturing()
    const theirs = db.addSlide()
    undo.undo()
    expect(db.slideIds()).toEqual([theirs])
    void mine
  })

  it('concurrent adds, moves and removes from 2–5 replicas converge without duplicates or losses', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: 5 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.array(fc.array(opArb(n), { maxLength: 10 }), { minLength: n, maxLength: n }),
              fc.array(fc.nat(100), { minLength: n, maxLength: n }),
            ),
          ),
        ([n, opsPer, shuffle]) => {
          const docs = Array.from({ length: n }, () => new Y.Doc())
          const seed = new Presentation(docs[0] as Y.Doc)
          for (let k = 0; k < 3; k++) seed.addSlide()
          const init = Y.encodeStateAsUpdate(docs[0] as Y.Doc)
          for (const d of docs.slice(1)) Y.applyUpdate(d, init)
          const decks = docs.map((d) => new Presentation(d))
          const added = new Set(seed.slideIds())
          const removed = new Set<string>()
          const longest = Math.max(...opsPer.map((o) => o.length))
          for (let step = 0; step < longest; step++) {
            for (let r = 0; r < n; r++) {
              const op = opsPer[r]?.[step]
              const deck = decks[r] as Presentation
              const ids = deck.slideIds()
              if (!op) continue
              if (op.t === 'sync') {
                Y.applyUpdate(docs[op.to] as Y.Doc, Y.encodeStateAsUpdate(docs[r] as Y.Doc))
              } else if (op.t === 'add') {
                added.add(deck.addSlide(Math.min(op.at, ids.length)))
              } else if (ids.length > 0) {
                const id = ids[op.pick % ids.length] as string
                if (op.t === 'remove') {
                  deck.removeSlide(id)
                  removed.add(id)
                } else deck.moveSlide(id, op.to % ids.length)
              }
            }
          }
          const updates = docs.map((d) => Y.encodeStateAsUpdate(d))
          const order = updates
            .map((u, i) => [u, shuffle[i] as number] as const)
            .sort((x, y) => x[1] - y[1])
          for (const d of docs) for (const [u] of order) Y.applyUpdate(d, u)
          const final = decks.map((d) => d.slideIds())
          for (const f of final.slice(1)) expect(f).toEqual(final[0])
          const ids = final[0] as string[]
          expect(new Set(ids).size).toBe(ids.length)
          expect([...ids].sort()).toEqual([...added].filter((id) => !removed.has(id)).sort())
        },
      ),
      { numRuns: 150 },
    )
  })
})
