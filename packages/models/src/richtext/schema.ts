import { type DOMOutputSpec, type MarkSpec, type NodeSpec, Schema } from 'prosemirror-model'

/** URL scheme under which an image's blob reference is written to HTML and Markdown. */
export const BLOB_SCHEME = 'valv-blob:'

const cellAttrs = {
  colspan: { default: 1 },
  rowspan: { default: 1 },
  colwidth: { default: null },
}

function cellSpec(tag: 'td' | 'th'): NodeSpec {
  return {
    content: 'block+',
    attrs: cellAttrs,
    isolating: true,
    tableRole: tag === 'th' ? 'header_cell' : 'cell',
    parseDOM: [
      {
        tag,
        getAttrs: (dom: HTMLElement) => ({
          colspan: Number(dom.getAttribute('colspan') ?? 1) || 1,
          rowspan: Number(dom.getAttribute('rowspan') ?? 1) || 1,
        }),
      },
    ],
    toDOM: (node): DOMOutputSpec => {
      const attrs: Record<string, string> = {}
      if (node.attrs.colspan !== 1) attrs.colspan = String(node.attrs.colspan)
      if (node.attrs.rowspan !== 1) attrs.rowspan = String(node.attrs.rowspan)
      return [tag, attrs, 0]
    },
  }
}

// Names follow Tiptap's StarterKit and table extensions (camelCase), so a Tiptap editor with
// those extensions (plus an image node keyed by `blobId`) binds to the same fragment unchanged.
const nodes: Record<string, NodeSpec> = {
  doc: { content: 'block+' },
  paragraph: {
    group: 'block',
    content: 'inline*',
    parseDOM: [{ tag: 'p' }],
    toDOM: () => ['p', 0],
  },
  heading: {
    group: 'block',
    content: 'inline*',
    attrs: { level: { default: 1 } },
    defining: true,
    parseDOM: [1, 2, 3, 4, 5, 6].map((level) => ({ tag: `h${level}`, attrs: { level } })),
    toDOM: (node) => [`h${node.attrs.level}`, 0],
  },
  blockquote: {
    group: 'block',
    content: 'block+',
    defining: true,
    parseDOM: [{ tag: 'blockquote' }],
    toDOM: () => ['blockquote', 0],
  },
  codeBlock: {
    group: 'block',
    content: 'text*',
    marks: '',
    code: true,
    defining: true,
    attrs: { language: { default: null } },
    parseDOM: [
      {
        tag: 'pre',
        preserveWhitespace: 'full',
        getAttrs: (dom: HTMLElement) => ({
          language: /language-(\S+)/.exec(dom.querySelector('code')?.className ?? '')?.[1] ?? null,
        }),
      },
    ],
    toDOM: (node) => [
      'pre',
      ['code', node.attrs.language ? { class: `language-${node.attrs.language}` } : {}, 0],
    ],
  },
  horizontalRule: {
    group: 'block',
    parseDOM: [{ tag: 'hr' }],
    toDOM: () => ['hr'],
  },
  bulletList: {
    group: 'block',
    content: 'listItem+',
    parseDOM: [{ tag: 'ul' }],
    toDOM: () => ['ul', 0],
  },
  orderedList: {
    group: 'block',
    content: 'listItem+',
    attrs: { start: { default: 1 } },
    parseDOM: [
      {
        tag: 'ol',
        getAttrs: (dom: HTMLElement) => ({ start: Number(dom.getAttribute('start') ?? 1) || 1 }),
      },
    ],
    toDOM: (node) => ['ol', node.attrs.start === 1 ? {} : { start: String(node.attrs.start) }, 0],
  },
  listItem: {
    content: 'paragraph block*',
    defining: true,
    parseDOM: [{ tag: 'li' }],
    toDOM: () => ['li', 0],
  },
  table: {
    group: 'block',
    content: 'tableRow+',
    isolating: true,
    tableRole: 'table',
    parseDOM: [{ tag: 'table' }],
    toDOM: () => ['table', ['tbody', 0]],
  },
  tableRow: {
    content: '(tableCell | tableHeader)+',
    tableRole: 'row',
    parseDOM: [{ tag: 'tr' }],
    toDOM: () => ['tr', 0],
  },
  tableCell: cellSpec('td'),
  tableHeader: cellSpec('th'),
  text: { group: 'inline' },
  image: {
    group: 'inline',
    inline: true,
    draggable: true,
    attrs: { blobId: {}, alt: { default: null }, title: { default: null } },
    parseDOM: [
      {
        tag: 'img[src]',
        getAttrs: (dom: HTMLElement) => {
          const src = dom.getAttribute('src') ?? ''
          // Only blob references are images here; a plaintext URL would leak a fetch.
          if (!src.startsWith(BLOB_SCHEME)) return false
          return {
            blobId: src.slice(BLOB_SCHEME.length),
            alt: dom.getAttribute('alt'),
            title: dom.getAttribute('title'),
          }
        },
      },
    ],
    toDOM: (node) => {
      const attrs: Record<string, string> = { src: BLOB_SCHEME + node.attrs.blobId }
      if (node.attrs.alt) attrs.alt = node.attrs.alt
      if (node.attrs.title) attrs.title = node.attrs.title
      return ['img', attrs]
    },
  },
  hardBreak: {
    group: 'inline',
    inline: true,
    selectable: false,
    leafText: () => '\n',
    parseDOM: [{ tag: 'br' }],
    toDOM: () => ['br'],
  },
}

const marks: Record<string, MarkSpec> = {
  link: {
    attrs: { href: {}, title: { default: null } },
    inclusive: false,
    parseDOM: [
      {
        tag: 'a[href]',
        getAttrs: (dom: HTMLElement) => ({
          href: dom.getAttribute('href'),
          title: dom.getAttribute('title'),
        }),
      },
    ],
    toDOM: (mark) => [
      'a',
      mark.attrs.title
        ? { href: mark.attrs.href, title: mark.attrs.title }
        : { href: mark.attrs.href },
      0,
    ],
  },
  bold: {
    parseDOM: [{ tag: 'strong' }, { tag: 'b' }, { style: 'font-weight=bold' }],
    toDOM: () => ['strong', 0],
  },
  italic: {
    parseDOM: [{ tag: 'em' }, { tag: 'i' }, { style: 'font-style=italic' }],
    toDOM: () => ['em', 0],
  },
  underline: {
    parseDOM: [{ tag: 'u' }, { style: 'text-decoration=underline' }],
    toDOM: () => ['u', 0],
  },
  strike: {
    parseDOM: [{ tag: 's' }, { tag: 'del' }, { tag: 'strike' }],
    toDOM: () => ['s', 0],
  },
  code: {
    parseDOM: [{ tag: 'code' }],
    toDOM: () => ['code', 0],
  },
}

/**
 * ProseMirror schema of Valv office documents: paragraphs, headings 1–6, blockquote, code block,
 * horizontal rule, bullet and ordered lists, tables, images by blob reference (`blobId`, never a
 * plaintext URL), hard breaks; marks bold, italic, underline, strike, code and link.
 *
 * @example
 * ```ts
 * const doc = richTextSchema.nodeFromJSON({ type: 'doc', content: [{ type: 'paragraph' }] })
 * doc.check()
 * ```
 */
export const richTextSchema: Schema = new Schema({ nodes, marks })

/** The mark names of {@link richTextSchema}. */
export type RichTextMark = 'bold' | 'italic' | 'underline' | 'strike' | 'code' | 'link'
