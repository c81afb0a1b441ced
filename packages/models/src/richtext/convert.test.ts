import { Window } from 'happy-dom'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RichTextError } from './errors.js'
import { htmlToRichText, richTextToHtml } from './html.js'
import { markdownToRichText, richTextToMarkdown } from './markdown.js'
import { RichText } from './richtext.js'

const document = new Window().document as unknown as Document

const MARKDOWN = `# Minutes

Present: **Ann**, *Bob* and ~~Cid~~ \`code\` [site](https://example.org)

## Items

- one
- two

1. first
2. second

> quoted

\`\`\`ts
const x = 1
\`\`\`

| Name | Role |
| --- | --- |
| Ann | Chair |

![logo](valv-blob:abc123)

---

line\\
break
`

describe('Markdown', () => {
  it('parses every construct into a valid document', () => {
    const doc = markdownToRichText(MARKDOWN)
    doc.check()
    const types = new Set<string>()
    doc.descendants((n) => {
      types.add(n.type.name)
      for (const m of n.marks) types.add(m.type.name)
    })
    for (const t of [
      'heading',
      'paragraph',
      'bold',
      'italic',
      'strike',
      'code',
      'link',
      'bulletList',
      'orderedList',
      'listItem',
      'blockquote',
      'codeBlock',
      'table',
      'tableRow',
      'tableHeader',
      'tableCell',
      'image',
      'horizontalRule',
      'hardBreak',
    ]) {
      expect(types.has(t), t).toBe(true)
    }
  })

  it('round-trips Markdown → rich text → Markdown → same document', () => {
    const doc = markdownToRichText(MARKDOWN)
    const text = RichText.fromDoc(new Y.Doc())
    text.setNode(doc)
    const again = markdownToRichText(richTextToMarkdown(text.toNode()))
    expect(again.toJSON()).toEqual(doc.toJSON())
    expect(richTextToMarkdown(again)).toBe(richTextToMarkdown(doc))
  })

  it('keeps images only as blob references and raw HTML as text', () => {
    const doc = markdownToRichText('![x](https://tracker.example/p.gif) <b>hi</b>')
    let images = 0
    doc.descendants((n) => {
      if (n.type.name === 'image') images++
    })
    expect(images).toBe(0)
    expect(doc.textContent).toBe('x <b>hi</b>')
  })
})

describe('HTML', () => {
  const HTML =
    '<h2>Title</h2><p>a <strong>b</strong> <em>c</em> <u>d</u> <s>e</s> <code>f</code> ' +
    '<a href="https://example.org">g</a><br><img src="valv-blob:b1" alt="pic"></p>' +
    '<ul><li><p>x</p></li></ul><ol start="3"><li><p>y</p></li></ol>' +
    '<blockquote><p>q</p></blockquote><pre><code class="language-js">let a</code></pre><hr>' +
    '<table><tbody><tr><th><p>h</p></th></tr><tr><td colspan="2"><p>c</p></td></tr></tbody></table>'

  it('round-trips HTML → rich text → HTML exactly', () => {
    const doc = htmlToRichText(HTML, document)
    doc.check()
    expect(richTextToHtml(doc, document)).toBe(HTML)
  })

  it('round-trips through the Yjs fragment', () => {
    const text = RichText.fromDoc(new Y.Doc())
    text.setNode(htmlToRichText(HTML, document))
    expect(richTextToHtml(text.toNode(), document)).toBe(HTML)
    expect(markdownToRichText(richTextToMarkdown(text.toNode())).textContent).toBe(
      text.toNode().textContent,
    )
  })

  it('drops scripts, handlers and non-blob images', () => {
    const doc = htmlToRichText(
      '<p onclick="x()">ok<script>alert(1)</script><img src="https://t.example/a.gif"></p>',
      document,
    )
    expect(richTextToHtml(doc, document)).toBe('<p>ok</p>')
  })

  it('needs a document when there is no global one', () => {
    expect(() => htmlToRichText('<p>x</p>')).toThrow(RichTextError)
  })
})
