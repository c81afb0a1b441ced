import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RichText } from '../richtext/richtext.js'
import { SheetWorkbook } from '../sheet/workbook.js'
import { Comments } from './comments.js'
import type { CommentError } from './errors.js'
import type { CommentEvent } from './types.js'

function sync(a: Y.Doc, b: Y.Doc): void {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
}

function content(): { docA: Y.Doc; docB: Y.Doc; a: RichText; b: RichText } {
  const docA = new Y.Doc()
  const docB = new Y.Doc()
  const a = RichText.fromDoc(docA)
  a.insertHeading(0, 1, 'Minutes')
  a.insertParagraph(1, 'The budget is approved today.')
  sync(docA, docB)
  return { docA, docB, a, b: RichText.fromDoc(docB) }
}

const code = (fn: () => unknown): string => {
  try {
    fn()
  } catch (e) {
    return (e as CommentError).code
  }
  return 'none'
}

describe('Comments on rich text', () => {
  it('live in a separate document and never write to the content', () => {
    const { docA, a } = content()
    const before = Y.encodeStateVector(docA)
    const comments = new Comments(new Y.Doc(), { author: 'ann', now: () => 1 })
    const id = comments.addTextThread(a.fragment, 14, 20, 'Which budget?')
    expect(Y.encodeStateVector(docA)).toEqual(before)
    expect(comments.resolveText(id, a.fragment)).toEqual({
      status: 'anchored',
      from: 14,
      to: 20,
      text: 'budget',
    })
  })

  it('anchors survive concurrent edits before, inside and after the range', () => {
    const { docA, docB, a, b } = content()
    const commentsDoc = new Y.Doc()
    const comments = new Comments(commentsDoc, { author: 'ann' })
    const id = comments.addTextThread(a.fragment, 14, 20, 'Which budget?')
    a.insertParagraph(0, 'Agenda') // before, on replica A
    b.insertText(10, 'Note: ') // before, in the same paragraph, on replica B
    b.insertText(22, 'X') // inside "budget" ("bu|dget" after "Note: ")
    b.insertText(b.toNode().content.size - 1, ' Signed.') // after
    sync(docA, docB)
    for (const t of [a, b]) {
      const r = comments.resolveText(id, t.fragment)
      expect(r.status).toBe('anchored')
      if (r.status === 'anchored') expect(r.text).toBe('buXdget')
    }
    // Text typed right after the range does not extend it.
    const r = comments.resolveText(id, a.fragment)
    if (r.status !== 'anchored') throw new Error('orphaned')
    a.insertText(r.to, '!')
    expect(comments.resolveText(id, a.fragment)).toMatchObject({ text: 'buXdget' })
  })

  it('reports an anchor as orphaned when its text or its block is deleted', () => {
    const { docA, docB, a, b } = content()
    const comments = new Comments(new Y.Doc(), { author: 'ann' })
    const word = comments.addTextThread(a.fragment, 14, 20, 'word')
    const block = comments.addTextThread(b.fragment, 10, 13, 'block')
    a.deleteRange(13, 21) // " budget " on A
    b.insertText(a.toNode().content.size, '') // no-op on B
    sync(docA, docB)
    expect(comments.resolveText(word, b.fragment)).toEqual({ status: 'orphaned' })
    expect(comments.resolveText(block, b.fragment).status).toBe('anchored')
    b.deleteRange(9, b.toNode().content.size) // the whole paragraph
    expect(comments.resolveText(block, b.fragment)).toEqual({ status: 'orphaned' })
  })

  it('rejects bad anchors and leaves the comments document unchanged', () => {
    const { a } = content()
    const doc = new Y.Doc()
    const comments = new Comments(doc, { author: 'ann' })
    expect(code(() => comments.addTextThread(a.fragment, 5, 5, 'x'))).toBe('bad-anchor')
    expect(code(() => comments.addTextThread(a.fragment, 1, 999, 'x'))).toBe('bad-anchor')
    expect(code(() => comments.addTextThread(a.fragment, 1, 3, ' '))).toBe('bad-argument')
    expect(doc.getMap('valv.comments.threads').size).toBe(0)
  })
})

describe('Comment threads', () => {
  it('supports replies, edits, deletes, resolve and reopen, only by the author', () => {
    const { a } = content()
    const doc = new Y.Doc()
    let t = 100
    const ann = new Comments(doc, { author: 'ann', now: () => t++ })
    const bob = new Comments(doc, { author: 'bob', now: () => t++ })
    const id = ann.addTextThread(a.fragment, 1, 8, 'Title ok?')
    const reply = bob.reply(id, 'Yes, secret plan attached')
    expect(code(() => ann.edit(id, reply, 'hijack'))).toBe('not-author')
    bob.edit(id, reply, 'Yes')
    bob.delete(id, reply)
    bob.resolve(id)
    let thread = ann.thread(id)
    expect(thread.resolved).toBe(true)
    expect(thread.resolvedBy).toBe('bob')
    expect(thread.comments.map((c) => [c.author, c.body, c.deleted])).toEqual([
      ['ann', 'Title ok?', false],
      ['bob', '', true],
    ])
    // The deleted body is erased from the document state, not just flagged.
    expect(JSON.stringify(doc.getMap('valv.comments.threads').toJSON())).not.toContain('secret')
    expect(thread.comments[1]?.editedAt).not.toBeNull()
    ann.reopen(id)
    thread = ann.thread(id)
    expect(thread.resolved).toBe(false)
    expect(ann.threads().map((x) => x.id)).toEqual([id])
    ann.deleteThread(id)
    expect(ann.threads()).toEqual([])
    expect(code(() => ann.reply(id, 'x'))).toBe('unknown-thread')
    expect(code(() => ann.resolveCell(id, {} as never))).toBe('unknown-thread')
  })

  it('reports thread events in comment terms', () => {
    const { a } = content()
    const docA = new Y.Doc()
    const docB = new Y.Doc()
    const ann = new Comments(docA, { author: 'ann' })
    const bob = new Comments(docB, { author: 'bob' })
    const events: CommentEvent[] = []
    ann.observe((e) => events.push(e))
    const id = ann.addTextThread(a.fragment, 1, 8, 'x')
    sync(docA, docB)
    bob.reply(id, 'y')
    sync(docA, docB)
    ann.deleteThread(id)
    expect(events).toEqual([
      { type: 'thread-added', threadId: id, local: true },
      { type: 'thread-changed', threadId: id, local: false },
      { type: 'thread-removed', threadId: id, local: true },
    ])
  })
})

describe('Comments on sheet cells', () => {
  it('follow the cell through concurrent row and column inserts, and orphan on delete', () => {
    const docA = new Y.Doc()
    const docB = new Y.Doc()
    const sheetA = new SheetWorkbook(docA).addSheet('S', { rows: 5, columns: 3 })
    sync(docA, docB)
    const sheetB = new SheetWorkbook(docB).sheetById(sheetA.id)
    const comments = new Comments(new Y.Doc(), { author: 'ann' })
    const id = comments.addCellThread(sheetA, 'B3', 'check this')
    sheetA.insertRows(0, 2)
    sheetB.insertColumns(0, 1)
    sync(docA, docB)
    expect(comments.resolveCell(id, sheetA)).toEqual({ status: 'anchored', address: 'C5' })
    expect(comments.resolveCell(id, sheetB)).toEqual({ status: 'anchored', address: 'C5' })
    sheetB.deleteRows(4, 1)
    sync(docA, docB)
    expect(comments.resolveCell(id, sheetA)).toEqual({ status: 'orphaned' })
    expect(code(() => comments.resolveText(id, new Y.Doc().getXmlFragment('x')))).toBe(
      'wrong-anchor-kind',
    )
    expect(code(() => comments.addCellThread(sheetA, 'Z99', 'x'))).toBe('bad-anchor')
  })
})
