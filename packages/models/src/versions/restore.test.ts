import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RichTextError } from '../richtext/errors.js'
import { RichText } from '../richtext/richtext.js'
import { SheetWorkbook } from '../sheet/workbook.js'
import { VersionHistory } from './history.js'

type Op = [who: number, kind: number, at: number, len: number]

function apply(text: RichText, book: SheetWorkbook, [, kind, at, len]: Op): void {
  const size = text.size
  const from = Math.floor(at * size)
  try {
    if (kind === 0) text.insertParagraph(Math.round(at * text.blockCount), 'p'.repeat(len))
    else if (kind === 1) text.deleteRange(from, Math.min(size, from + len))
    else if (kind === 2) text.format(from, Math.min(size, from + len), 'bold')
    else if (kind === 3) text.insertText(Math.max(1, Math.min(from, size - 1)), 'tx')
    else book.sheet('S').setCell(`A${1 + (len % 3)}`, Math.round(at * 100))
  } catch (e) {
    if (!(e instanceof RichTextError)) throw e
  }
}

describe('restore', () => {
  it('brings any state back to the saved version, on every replica', () => {
    const op = fc.tuple(
      fc.nat(1),
      fc.nat(4),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.integer({ min: 1, max: 5 }),
    )
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 12 }),
        fc.array(op, { maxLength: 12 }),
        (before, after) => {
          const docs = [new Y.Doc({ gc: false }), new Y.Doc({ gc: false })]
          const texts = docs.map((d) => RichText.fromDoc(d))
          const books = docs.map((d) => new SheetWorkbook(d))
          ;(texts[0] as RichText).insertParagraph(0, 'start')
          ;(books[0] as SheetWorkbook).addSheet('S', { rows: 3, columns: 1 })
          const sync = () => {
            for (const a of docs) for (const b of docs) Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
          }
          sync()
          const run = (ops: Op[]) => {
            for (const o of ops) apply(texts[o[0]] as RichText, books[o[0]] as SheetWorkbook, o)
            sync()
          }
          run(before)
          const history = new VersionHistory(docs[0] as Y.Doc)
          const v = history.save('v')
          const savedText = (texts[0] as RichText).toJSON()
          const cells = () =>
            ['A1', 'A2', 'A3'].map((a) => (books[0] as SheetWorkbook).sheet('S').getValue(a))
          const savedCells = cells()
          run(after)
          history.restore(v)
          sync()
          for (const t of texts) expect(t.toJSON()).toEqual(savedText)
          expect(cells()).toEqual(savedCells)
          expect(RichText.fromDoc(history.view(v)).toJSON()).toEqual(savedText)
        },
      ),
      { numRuns: 60 },
    )
  })
})
