import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RichText } from '../richtext/richtext.js'
import { SheetWorkbook } from '../sheet/workbook.js'
import { diffText } from './diff.js'
import { VersionError } from './errors.js'
import { type VersionEvent, VersionHistory } from './history.js'

function sync(a: Y.Doc, b: Y.Doc): void {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
}

describe('VersionHistory', () => {
  it('requires gc: false', () => {
    try {
      new VersionHistory(new Y.Doc())
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(VersionError)
      expect((e as VersionError).code).toBe('gc-enabled')
    }
  })

  it('saves, lists, renames and removes named versions', () => {
    const doc = new Y.Doc({ gc: false })
    let t = 0
    const history = new VersionHistory(doc, { author: 'ann', now: () => ++t })
    const events: VersionEvent[] = []
    history.observe((e) => events.push(e))
    const v1 = history.save('Draft')
    const v2 = history.save('Final')
    expect(history.list().map((v) => [v.name, v.author, v.createdAt])).toEqual([
      ['Draft', 'ann', 1],
      ['Final', 'ann', 2],
    ])
    history.rename(v1, 'First draft')
    history.remove(v2)
    expect(history.list().map((v) => v.name)).toEqual(['First draft'])
    expect(events).toEqual([
      { type: 'saved', id: v1, local: true },
      { type: 'saved', id: v2, local: true },
      { type: 'renamed', id: v1, local: true },
      { type: 'removed', id: v2, local: true },
    ])
    expect(() => history.remove(v2)).toThrow(VersionError)
    expect(() => history.save(' ')).toThrow(VersionError)
  })

  it('shows an old version read-only and diffs the text of two versions', () => {
    const doc = new Y.Doc({ gc: false })
    const text = RichText.fromDoc(doc)
    const history = new VersionHistory(doc)
    text.insertParagraph(0, 'the old plan')
    const v1 = history.save('v1')
    text.deleteRange(5, 8)
    text.insertText(5, 'new')
    text.insertParagraph(1, 'approved')
    const v2 = history.save('v2')
    const view = history.view(v1)
    expect(RichText.fromDoc(view).toPlainText()).toBe('the old plan')
    RichText.fromDoc(view).insertParagraph(0, 'scribble')
    expect(text.toPlainText()).toBe('the new plan\napproved')
    expect(history.diff(v1, v2)).toEqual([
      { type: 'equal', text: 'the ' },
      { type: 'delete', text: 'old' },
      { type: 'insert', text: 'new' },
      { type: 'equal', text: ' plan' },
      { type: 'insert', text: '\napproved' },
    ])
    expect(history.diff(v2, 'current')).toEqual([{ type: 'equal', text: 'the new plan\napproved' }])
  })

  it('restores as a forward change that every replica converges on', () => {
    const docA = new Y.Doc({ gc: false })
    const docB = new Y.Doc({ gc: false })
    const textA = RichText.fromDoc(docA)
    const bookA = new SheetWorkbook(docA)
    textA.insertHeading(0, 1, 'Budget')
    textA.insertParagraph(1, 'We spend 10.')
    const sheet = bookA.addSheet('S', { rows: 3, columns: 2 })
    sheet.setCell('A1', 10)
    sync(docA, docB)
    const history = new VersionHistory(docA)
    const v1 = history.save('agreed')
    const expectedText = textA.toJSON()
    const textB = RichText.fromDoc(docB)
    // Later edits on both replicas: text inserted, deleted, formatted; cells; a new sheet.
    textA.format(1, 7, 'bold')
    textB.deleteRange(9, 22)
    textB.insertParagraph(1, 'Nothing agreed.')
    new SheetWorkbook(docB).sheetById(sheet.id).setCell('A1', 99)
    new SheetWorkbook(docB).addSheet('Extra')
    sync(docA, docB)
    const v2 = history.save('later')
    const stateBefore = Y.encodeStateVector(docA)

    history.restore(v1)
    expect(textA.toJSON()).toEqual(expectedText)
    expect(bookA.sheetNames()).toEqual(['S'])
    expect(bookA.sheetById(sheet.id).getValue('A1')).toBe(10)
    // History is kept: both versions still listed, and the restore only added new operations.
    expect(history.list().map((v) => v.id)).toEqual([v1, v2])
    const after = Y.decodeStateVector(Y.encodeStateVector(docA))
    for (const [client, clock] of Y.decodeStateVector(stateBefore)) {
      expect(after.get(client) ?? 0).toBeGreaterThanOrEqual(clock)
    }
    expect(RichText.fromDoc(history.view(v2)).toPlainText()).toContain('Nothing agreed.')

    sync(docA, docB)
    expect(textB.toJSON()).toEqual(expectedText)
    expect(new SheetWorkbook(docB).sheetById(sheet.id).getValue('A1')).toBe(10)
    expect(new SheetWorkbook(docB).sheetNames()).toEqual(['S'])
  })

  it('restore merges with a concurrent edit on another replica', () => {
    const docA = new Y.Doc({ gc: false })
    const docB = new Y.Doc({ gc: false })
    const a = RichText.fromDoc(docA)
    a.insertParagraph(0, 'one')
    const history = new VersionHistory(docA)
    const v1 = history.save('v1')
    a.insertParagraph(1, 'two')
    sync(docA, docB)
    const b = RichText.fromDoc(docB)
    b.insertParagraph(0, 'zero')
    history.restore(v1)
    sync(docA, docB)
    expect(a.toJSON()).toEqual(b.toJSON())
    expect(a.toPlainText()).toBe('zero\none')
  })
  it('restores roots this replica synced but never opened', () => {
    const docA = new Y.Doc({ gc: false })
    const a = RichText.fromDoc(docA)
    a.insertParagraph(0, 'kept')
    const docB = new Y.Doc({ gc: false })
    Y.applyUpdate(docB, Y.encodeStateAsUpdate(docA))
    const history = new VersionHistory(docB)
    const v1 = history.save('v1')
    a.insertParagraph(1, 'dropped')
    Y.applyUpdate(docB, Y.encodeStateAsUpdate(docA))
    history.restore(v1)
    Y.applyUpdate(docA, Y.encodeStateAsUpdate(docB))
    expect(a.toPlainText()).toBe('kept')
  })
})

describe('diffText', () => {
  it('diffs by words and keeps all text', () => {
    const parts = diffText('a b c', 'a x c d')
    expect(
      parts
        .filter((p) => p.type !== 'insert')
        .map((p) => p.text)
        .join(''),
    ).toBe('a b c')
    expect(
      parts
        .filter((p) => p.type !== 'delete')
        .map((p) => p.text)
        .join(''),
    ).toBe('a x c d')
  })
})
