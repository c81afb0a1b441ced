import { describe, expect, it } from 'vitest'
import {
  absolutePositionToRelativePosition,
  initProseMirrorDoc,
  prosemirrorJSONToYXmlFragment,
  relativePositionToAbsolutePosition,
  yXmlFragmentToProseMirrorRootNode,
} from 'y-prosemirror'
import * as Y from 'yjs'
import { RichTextError } from './errors.js'
import { richTextAbsolutePosition, richTextRelativePosition } from './positions.js'
import { RichText, type RichTextEvent } from './richtext.js'
import { richTextSchema } from './schema.js'

function sample(): RichText {
  const text = RichText.fromDoc(new Y.Doc())
  text.insertHeading(0, 1, 'Minutes')
  text.insertParagraph(1, 'Present: all')
  text.insertList(2, 'bullet', ['one', 'two'])
  text.insertTable(
    3,
    [
      ['Name', 'Role'],
      ['Ann', 'Chair'],
    ],
    true,
  )
  return text
}

describe('RichText', () => {
  it('builds a document with the headless API and reads it as plain text', () => {
    const text = sample()
    expect(text.toPlainText()).toBe('Minutes\nPresent: all\none\ntwo\nName\nRole\nAnn\nChair')
    expect(text.blockCount).toBe(4)
    text.toNode().check()
  })

  it('inserts text and formats ranges with marks', () => {
    const text = RichText.fromDoc(new Y.Doc())
    text.insertParagraph(0, 'hello world')
    text.insertText(7, 'big ')
    expect(text.toPlainText()).toBe('hello big world')
    text.format(7, 10, 'bold')
    text.format(11, 16, 'link', { href: 'https://example.org' })
    const para = text.toNode().child(0)
    expect(para.child(1).text).toBe('big')
    expect(para.child(1).marks.map((m) => m.type.name)).toEqual(['bold'])
    expect(para.child(3).marks[0]?.attrs.href).toBe('https://example.org')
    text.unformat(1, 16, 'bold')
    const after = text.toNode().child(0)
    expect(after.childCount).toBe(2)
    expect(after.child(0).marks).toEqual([])
    expect(after.child(1).marks.map((m) => m.type.name)).toEqual(['link'])
  })

  it('inserts hard breaks and blob images, deletes ranges', () => {
    const text = RichText.fromDoc(new Y.Doc())
    text.insertParagraph(0, 'ab')
    text.insertHardBreak(2)
    text.insertImage(2, 'blob-1', 'logo')
    expect(text.toPlainText()).toBe('a\nb')
    const para = text.toNode().child(0)
    expect(para.child(1).type.name).toBe('image')
    expect(para.child(1).attrs.blobId).toBe('blob-1')
    text.deleteRange(2, 4)
    expect(text.toNode().child(0).textContent).toBe('ab')
  })

  it('rejects bad input and leaves the document unchanged', () => {
    const text = sample()
    const before = Y.encodeStateVector(text.fragment.doc as Y.Doc)
    const bad: [() => void, string][] = [
      [() => text.insertText(9999, 'x'), 'bad-position'],
      [() => text.insertText(0, 'x'), 'bad-position'],
      [() => text.insertHeading(0, 7, 'x'), 'bad-argument'],
      [() => text.insertParagraph(99), 'bad-position'],
      [() => text.format(5, 2, 'bold'), 'bad-range'],
      [() => text.format(1, 2, 'link'), 'bad-argument'],
      [() => text.setJSON({ type: 'doc', content: [{ type: 'nope' }] }), 'bad-content'],
      [() => text.setJSON({ type: 'doc', content: [] }), 'bad-content'],
      [() => text.insertImage(1, ''), 'bad-argument'],
    ]
    for (const [fn, code] of bad) {
      expect(fn).toThrow(RichTextError)
      try {
        fn()
      } catch (e) {
        expect((e as RichTextError).code).toBe(code)
      }
    }
    expect(Y.encodeStateVector(text.fragment.doc as Y.Doc)).toEqual(before)
  })

  it('round-trips ProseMirror JSON', () => {
    const a = sample()
    const b = RichText.fromDoc(new Y.Doc())
    b.setJSON(a.toJSON())
    expect(b.toJSON()).toEqual(a.toJSON())
  })

  it('writes exactly the layout y-prosemirror reads, and reads what y-prosemirror writes', () => {
    const a = sample()
    a.format(1, 8, 'italic')
    a.insertImage(10, 'b1')
    const viaY = yXmlFragmentToProseMirrorRootNode(a.fragment, richTextSchema)
    expect(viaY.toJSON()).toEqual(a.toJSON())
    viaY.check()

    const doc = new Y.Doc()
    const fragment = doc.getXmlFragment('valv.richtext')
    prosemirrorJSONToYXmlFragment(richTextSchema, a.toJSON(), fragment)
    const b = new RichText(fragment)
    expect(b.toJSON()).toEqual(a.toJSON())
    // The same bytes: a y-prosemirror editor and the headless API produce the same Yjs tree.
    expect(fragment.toJSON()).toEqual(a.fragment.toJSON())
    b.insertText(3, 'X')
    expect(yXmlFragmentToProseMirrorRootNode(fragment, richTextSchema).textContent).toContain(
      'MiXnutes',
    )
  })

  it('reports local and remote changes', () => {
    const docA = new Y.Doc()
    const docB = new Y.Doc()
    const a = RichText.fromDoc(docA)
    const b = RichText.fromDoc(docB)
    const seen: RichTextEvent[] = []
    b.insertParagraph(0, 'x')
    b.insertParagraph(1, 'w')
    const off = b.observe((e) => seen.push(e))
    b.insertText(2, 'v')
    Y.applyUpdate(docA, Y.encodeStateAsUpdate(docB))
    a.insertParagraph(2, 'y')
    Y.applyUpdate(docB, Y.encodeStateAsUpdate(docA))
    b.deleteRange(0, 4)
    off()
    b.insertParagraph(0, 'z')
    expect(seen.map((e) => [e.blocks, e.removed, e.local])).toEqual([
      [[0], 0, true],
      [[2], 0, false],
      [[], 1, true],
    ])
  })
})

describe('relative positions', () => {
  it('map every position to a relative position and back', () => {
    const text = sample()
    const size = text.size
    for (let pos = 0; pos <= size; pos++) {
      const rel = richTextRelativePosition(text.fragment, pos)
      expect(richTextAbsolutePosition(text.fragment, rel)).toBe(pos)
    }
    expect(() => richTextRelativePosition(text.fragment, size + 1)).toThrow(RichTextError)
  })

  it("agree with y-prosemirror's own cursor positions", () => {
    const text = sample()
    text.insertImage(3, 'b')
    text.insertHardBreak(12)
    const { mapping } = initProseMirrorDoc(text.fragment, richTextSchema)
    const doc = text.fragment.doc as Y.Doc
    for (let pos = 0; pos <= text.size; pos++) {
      const theirs = absolutePositionToRelativePosition(pos, text.fragment, mapping)
      expect(richTextAbsolutePosition(text.fragment, theirs)).toBe(pos)
      const ours = richTextRelativePosition(text.fragment, pos)
      expect(relativePositionToAbsolutePosition(doc, text.fragment, ours, mapping)).toBe(pos)
    }
  })

  it('follow the text through edits before them', () => {
    const text = sample()
    const rel = richTextRelativePosition(text.fragment, 11) // inside "Present"
    text.insertParagraph(0, 'new first block')
    text.insertText(1, 'xx')
    const pos = richTextAbsolutePosition(text.fragment, rel) as number
    const doc = text.toNode()
    expect(doc.textBetween(pos, pos + 3)).toBe(text.toNode().textBetween(pos, pos + 3))
    expect(doc.textBetween(pos - 1, pos + 2)).toBe('Pre')
  })
})
