import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RichText } from '../richtext/richtext.js'
import { Comments } from './comments.js'

describe('text anchors under concurrent edits', () => {
  it('keep exactly the anchored characters on every replica', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(
          fc.tuple(
            fc.nat(3),
            fc.double({ min: 0, max: 1, noNaN: true }),
            fc.boolean(),
            fc.boolean(),
          ),
          { maxLength: 25 },
        ),
        (n, start, len, ops) => {
          const docs = Array.from({ length: n }, () => new Y.Doc())
          const texts = docs.map((d) => RichText.fromDoc(d))
          const first = texts[0] as RichText
          first.insertParagraph(0, 'intro')
          first.insertParagraph(1, '0123456789')
          for (const d of docs) Y.applyUpdate(d, Y.encodeStateAsUpdate(docs[0] as Y.Doc))
          const comments = new Comments(new Y.Doc(), { author: 'ann' })
          const from = 8 + start
          const id = comments.addTextThread(first.fragment, from, from + len, 'note')
          const expected = '0123456789'.slice(start, start + len)
          for (const [who, at, block, sync] of ops) {
            const text = texts[who % n] as RichText
            if (block) text.insertParagraph(Math.round(at * text.blockCount), 'p')
            else {
              // Insert letters anywhere inside the digits paragraph, including the range edges.
              const doc = text.toNode()
              let base = 0
              let digits = -1
              doc.forEach((node, offset) => {
                if (digits < 0 && /\d/.test(node.textContent)) {
                  base = offset + 1
                  digits = node.content.size
                }
              })
              text.insertText(base + Math.round(at * digits), 'xy')
            }
            if (sync) {
              const a = docs[who % n] as Y.Doc
              for (const d of docs) Y.applyUpdate(d, Y.encodeStateAsUpdate(a))
            }
          }
          for (const a of docs) for (const b of docs) Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
          const results = texts.map((t) => comments.resolveText(id, t.fragment))
          for (const r of results) {
            expect(r).toEqual(results[0])
            if (r.status !== 'anchored') throw new Error('orphaned')
            expect(r.text.replace(/[a-z]/g, '')).toBe(expected)
            expect(r.text.startsWith(expected[0] as string)).toBe(true)
            expect(r.text.endsWith(expected.at(-1) as string)).toBe(true)
          }
        },
      ),
      { numRuns: 100 },
    )
  })
})
