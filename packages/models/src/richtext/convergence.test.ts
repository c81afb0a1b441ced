import fc from 'fast-check'
import type { Node } from 'prosemirror-model'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RichTextError } from './errors.js'
import { RichText } from './richtext.js'
import type { RichTextMark } from './schema.js'

const marks: RichTextMark[] = ['bold', 'italic', 'underline', 'strike', 'code']

type Op =
  | { kind: 'paragraph' | 'heading' | 'list' | 'table'; at: number; text: string }
  | { kind: 'text'; at: number; text: string }
  | { kind: 'format'; at: number; len: number; mark: RichTextMark }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'drop'; at: number }
  | { kind: 'sync'; from: number; to: number }

const frac = fc.double({ min: 0, max: 1, noNaN: true })
const word = fc.string({
  unit: fc.constantFrom('a', 'b', 'c', ' ', 'é'),
  minLength: 1,
  maxLength: 5,
})
const op: fc.Arbitrary<[number, Op]> = fc.tuple(
  fc.nat(4),
  fc.oneof(
    fc.record({
      kind: fc.constantFrom('paragraph', 'heading', 'list', 'table'),
      at: frac,
      text: word,
    }) as fc.Arbitrary<Op>,
    fc.record({ kind: fc.constant('text'), at: frac, text: word }) as fc.Arbitrary<Op>,
    fc.record({
      kind: fc.constant('format'),
      at: frac,
      len: fc.integer({ min: 1, max: 8 }),
      mark: fc.constantFrom(...marks),
    }) as fc.Arbitrary<Op>,
    fc.record({ kind: fc.constant('delete'), at: frac, len: fc.integer({ min: 1, max: 6 }) }),
    fc.record({ kind: fc.constant('drop'), at: frac }) as fc.Arbitrary<Op>,
    fc.record({ kind: fc.constant('sync'), from: fc.nat(4), to: fc.nat(4) }) as fc.Arbitrary<Op>,
  ),
)

function textPositions(doc: Node): number[] {
  const out: number[] = []
  doc.descendants((n, pos) => {
    if (n.inlineContent) for (let i = 0; i <= n.content.size; i++) out.push(pos + 1 + i)
    return true
  })
  return out
}

function apply(text: RichText, o: Op): void {
  const doc = text.toNode()
  const pick = (xs: number[], f: number) => xs[Math.min(xs.length - 1, Math.floor(f * xs.length))]
  try {
    switch (o.kind) {
      case 'paragraph':
      case 'heading':
      case 'list':
      case 'table': {
        const at = Math.round(('at' in o ? o.at : 0) * doc.childCount)
        if (o.kind === 'paragraph') text.insertParagraph(at, o.text)
        else if (o.kind === 'heading') text.insertHeading(at, 2, o.text)
        else if (o.kind === 'list') text.insertList(at, 'bullet', [o.text, o.text])
        else
          text.insertTable(at, [
            [o.text, 'x'],
            ['y', o.text],
          ])
        return
      }
      case 'text': {
        const at = pick(textPositions(doc), o.at)
        if (at !== undefined) text.insertText(at, o.text)
        return
      }
      case 'format':
      case 'delete': {
        const from = Math.floor(o.at * doc.content.size)
        const to = Math.min(doc.content.size, from + o.len)
        if (o.kind === 'format') text.format(from, to, o.mark)
        else text.deleteRange(from, to)
        return
      }
      case 'drop': {
        const index = Math.min(doc.childCount - 1, Math.floor(o.at * doc.childCount))
        let start = 0
        for (let i = 0; i < index; i++) start += doc.child(i).nodeSize
        text.deleteRange(start, start + doc.child(index).nodeSize)
        return
      }
      default:
    }
  } catch (e) {
    // Some random ranges are not valid edits; they must be refused cleanly, never half-applied.
    if (!(e instanceof RichTextError)) throw e
  }
}

describe('rich text convergence', () => {
  it('random concurrent edits on 2–5 replicas converge to one valid document', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }),
        fc.array(op, { minLength: 1, maxLength: 30 }),
        (n, ops) => {
          const docs = Array.from({ length: n }, () => new Y.Doc())
          const texts = docs.map((d) => RichText.fromDoc(d))
          for (const [who, o] of ops) {
            if (o.kind === 'sync') {
              const from = docs[o.from % n] as Y.Doc
              const to = docs[o.to % n] as Y.Doc
              Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)))
            } else apply(texts[who % n] as RichText, o)
          }
          for (const a of docs) for (const b of docs) Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
          const first = (texts[0] as RichText).toNode()
          first.check()
          for (const t of texts) {
            const node = t.toNode()
            node.check()
            expect(node.toJSON()).toEqual(first.toJSON())
          }
        },
      ),
      { numRuns: 150 },
    )
  })

  it('repairs a merge that leaves the document without a block', () => {
    const docA = new Y.Doc()
    const docB = new Y.Doc()
    const a = RichText.fromDoc(docA)
    a.insertParagraph(0, 'first')
    a.insertParagraph(1, 'second')
    Y.applyUpdate(docB, Y.encodeStateAsUpdate(docA))
    const b = RichText.fromDoc(docB)
    a.deleteRange(3, 11) // joins the paragraphs: "fi" + "cond"
    b.deleteRange(0, 7) // removes the first paragraph
    Y.applyUpdate(docA, Y.encodeStateAsUpdate(docB))
    Y.applyUpdate(docB, Y.encodeStateAsUpdate(docA))
    expect(a.fragment.length).toBe(0)
    expect(a.toJSON()).toEqual({ type: 'doc', content: [{ type: 'paragraph' }] })
    expect(b.toJSON()).toEqual(a.toJSON())
    a.insertText(1, 'ok')
    expect(a.toPlainText()).toBe('ok')
  })
})
