import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Comments } from '../comments/comments.js'
import { RichText } from '../richtext/richtext.js'
import { SheetWorkbook } from '../sheet/workbook.js'
import { Presentation } from '../slides/presentation.js'
import { commentsUndo, presentationUndo, richTextUndo, sheetUndo } from './models.js'
import { type UndoState, UserUndo } from './user-undo.js'

function sync(a: Y.Doc, b: Y.Doc): void {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
}

describe('per-user undo', () => {
  it("rich text: A's undo never reverts B's edits, even in the same paragraph", () => {
    const docA = new Y.Doc()
    const docB = new Y.Doc()
    const a = RichText.fromDoc(docA)
    a.insertParagraph(0, 'shared')
    sync(docA, docB)
    const b = RichText.fromDoc(docB)
    const undoA = richTextUndo(a)
    const undoB = richTextUndo(b)
    expect(undoA.canUndo).toBe(false) // edits before the manager existed are not this step
    a.insertText(7, ' by A')
    undoA.stopCapturing()
    a.insertParagraph(1, 'A para')
    b.insertText(1, 'B: ')
    sync(docA, docB)
    undoA.stopCapturing()
    a.insertText(1, '!') // after B's edit, in the same paragraph
    sync(docA, docB)
    expect(b.toPlainText()).toBe('!B: shared by A\nA para')

    expect(undoA.undo()).toBe(true)
    sync(docA, docB)
    expect(b.toPlainText()).toBe('B: shared by A\nA para')
    undoA.undo()
    undoA.undo()
    sync(docA, docB)
    expect(a.toPlainText()).toBe('B: shared')
    expect(undoA.undo()).toBe(false)
    expect(undoB.canUndo).toBe(true)
    undoA.redo()
    sync(docA, docB)
    expect(b.toPlainText()).toBe('B: shared by A')
    undoB.undo()
    sync(docA, docB)
    expect(a.toPlainText()).toBe('shared by A')
  })

  it("sheet: A's undo restores A's cell and leaves B's cells and rows alone", () => {
    const docA = new Y.Doc()
    const docB = new Y.Doc()
    const bookA = new SheetWorkbook(docA)
    const sheetA = bookA.addSheet('S', { rows: 3, columns: 3 })
    sync(docA, docB)
    const sheetB = new SheetWorkbook(docB).sheetById(sheetA.id)
    const undoA = sheetUndo(bookA)
    sheetA.setCell('A1', 1)
    sheetB.setCell('B1', 2)
    sheetB.insertRows(0, 1)
    sync(docA, docB)
    expect(undoA.undo()).toBe(true)
    sync(docA, docB)
    expect(sheetB.getValue('A2')).toBe(null)
    expect(sheetB.getValue('B2')).toBe(2)
    expect(sheetB.rowCount).toBe(4)
  })

  it("presentation: A's undo removes A's slide, not B's", () => {
    const docA = new Y.Doc()
    const docB = new Y.Doc()
    const pa = new Presentation(docA)
    const pb = new Presentation(docB)
    const undoA = presentationUndo(pa)
    const slideA = pa.addSlide()
    const slideB = pb.addSlide()
    sync(docA, docB)
    undoA.undo()
    sync(docA, docB)
    expect(pb.slideIds()).toEqual([slideB])
    expect(pa.slideIds()).not.toContain(slideA)
  })

  it("comments: A's undo removes A's reply, not B's", () => {
    const docA = new Y.Doc()
    const docB = new Y.Doc()
    const text = RichText.fromDoc(new Y.Doc())
    text.insertParagraph(0, 'hello')
    const ann = new Comments(docA, { author: 'ann' })
    const id = ann.addTextThread(text.fragment, 1, 6, 'first')
    sync(docA, docB)
    const bob = new Comments(docB, { author: 'bob' })
    const undoAnn = commentsUndo(ann)
    ann.reply(id, 'by ann')
    bob.reply(id, 'by bob')
    sync(docA, docB)
    undoAnn.undo()
    sync(docA, docB)
    expect(bob.thread(id).comments.map((c) => c.body)).toEqual(['first', 'by bob'])
  })

  it('reports its state and can be cleared', () => {
    const doc = new Y.Doc()
    const arr = doc.getArray<number>('chat')
    const me = Symbol('me')
    const undo = UserUndo.forTypes(arr, [me], { captureTimeout: 0 })
    const states: UndoState[] = []
    const off = undo.observe((s) => states.push(s))
    doc.transact(() => arr.push([1]), me)
    doc.transact(() => arr.push([2]), 'someone else')
    undo.undo()
    expect(arr.toArray()).toEqual([2])
    off()
    expect(states.at(-1)).toEqual({ canUndo: false, canRedo: true })
    undo.clear()
    expect(undo.canRedo).toBe(false)
    undo.destroy()
  })
})
