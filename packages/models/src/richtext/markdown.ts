import type { Token } from 'markdown-it'
import MarkdownIt from 'markdown-it'
import {
  MarkdownParser,
  MarkdownSerializer,
  type MarkdownSerializerState,
} from 'prosemirror-markdown'
import type { Mark, Node } from 'prosemirror-model'
import { RichTextError } from './errors.js'
import { BLOB_SCHEME, richTextSchema } from './schema.js'

// GFM tables and ~~strike~~ on top of CommonMark; raw HTML stays text (never markup).
const md = new MarkdownIt('commonmark', { html: false }).enable(['table', 'strikethrough'])

function make(like: Token, type: string, tag: string, nesting: 1 | 0 | -1): Token {
  const T = like.constructor as new (type: string, tag: string, nesting: 1 | 0 | -1) => Token
  const t = new T(type, tag, nesting)
  t.block = true
  return t
}

/**
 * Adapt markdown-it's stream to the schema: table cells hold blocks, so inline cell content is
 * wrapped in a paragraph; images that are not blob references become their alt text, because a
 * document must never make a reader's client fetch a plaintext URL.
 */
function tokenize(text: string): Token[] {
  const out: Token[] = []
  for (const tok of md.parse(text, {})) {
    if (tok.type === 'inline' && tok.children) {
      tok.children = tok.children.map((c) => {
        if (c.type !== 'image' || (c.attrGet('src') ?? '').startsWith(BLOB_SCHEME)) return c
        const t = make(c, 'text', '', 0)
        t.content = c.content
        return t
      })
    }
    const prev = out[out.length - 1]
    const inCell = prev && (prev.type === 'th_open' || prev.type === 'td_open')
    if (inCell && tok.type === 'inline') {
      out.push(make(tok, 'paragraph_open', 'p', 1), tok, make(tok, 'paragraph_close', 'p', -1))
    } else if (inCell && (tok.type === 'th_close' || tok.type === 'td_close')) {
      out.push(make(tok, 'paragraph_open', 'p', 1), make(tok, 'paragraph_close', 'p', -1), tok)
    } else out.push(tok)
  }
  return out
}

const parser = new MarkdownParser(richTextSchema, { parse: tokenize } as unknown as MarkdownIt, {
  blockquote: { block: 'blockquote' },
  paragraph: { block: 'paragraph' },
  list_item: { block: 'listItem' },
  bullet_list: { block: 'bulletList' },
  ordered_list: {
    block: 'orderedList',
    getAttrs: (tok) => ({ start: Number(tok.attrGet('start') ?? 1) || 1 }),
  },
  heading: { block: 'heading', getAttrs: (tok) => ({ level: Number(tok.tag.slice(1)) }) },
  code_block: { block: 'codeBlock', noCloseToken: true },
  fence: {
    block: 'codeBlock',
    getAttrs: (tok) => ({ language: tok.info.trim() || null }),
    noCloseToken: true,
  },
  hr: { node: 'horizontalRule' },
  image: {
    node: 'image',
    getAttrs: (tok) => ({
      blobId: (tok.attrGet('src') ?? '').slice(BLOB_SCHEME.length),
      alt: tok.children?.[0]?.content || null,
      title: tok.attrGet('title') || null,
    }),
  },
  hardbreak: { node: 'hardBreak' },
  em: { mark: 'italic' },
  strong: { mark: 'bold' },
  s: { mark: 'strike' },
  link: {
    mark: 'link',
    getAttrs: (tok) => ({ href: tok.attrGet('href'), title: tok.attrGet('title') || null }),
  },
  code_inline: { mark: 'code', noCloseToken: true },
  table: { block: 'table' },
  thead: { ignore: true },
  tbody: { ignore: true },
  tr: { block: 'tableRow' },
  th: { block: 'tableHeader' },
  td: { block: 'tableCell' },
})

function cellMarkdown(cell: Node): string {
  const text = serializer.serialize(richTextSchema.node('doc', null, cell.content))
  return text
    .trim()
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
}

function backticksFor(node: Node, side: number): string {
  let len = 0
  if (node.isText) for (const m of node.text?.match(/`+/g) ?? []) len = Math.max(len, m.length)
  let result = len > 0 && side > 0 ? ' `' : '`'
  for (let i = 0; i < len; i++) result += '`'
  if (len > 0 && side < 0) result += ' '
  return result
}

type NodeWriter = (state: MarkdownSerializerState, node: Node, parent: Node, index: number) => void

const nodeWriters: Record<string, NodeWriter> = {
  blockquote: (state, node) => state.wrapBlock('> ', null, node, () => state.renderContent(node)),
  codeBlock: (state, node) => {
    const ticks = node.textContent.match(/`{3,}/gm)
    const fence = ticks ? `${ticks.sort().slice(-1)[0]}\`` : '```'
    state.write(`${fence}${node.attrs.language ?? ''}\n`)
    state.text(node.textContent, false)
    state.write('\n')
    state.write(fence)
    state.closeBlock(node)
  },
  heading: (state, node) => {
    state.write(`${state.repeat('#', node.attrs.level)} `)
    state.renderInline(node, false)
    state.closeBlock(node)
  },
  horizontalRule: (state, node) => {
    state.write('---')
    state.closeBlock(node)
  },
  bulletList: (state, node) => state.renderList(node, '  ', () => '- '),
  orderedList: (state, node) => {
    const start: number = node.attrs.start
    const width = String(start + node.childCount - 1).length
    state.renderList(node, state.repeat(' ', width + 2), (i) => {
      const n = String(start + i)
      return `${state.repeat(' ', width - n.length)}${n}. `
    })
  },
  listItem: (state, node) => state.renderContent(node),
  paragraph: (state, node) => {
    state.renderInline(node)
    state.closeBlock(node)
  },
  table: (state, node) => {
    const rows: string[][] = []
    node.forEach((row) => {
      const cells: string[] = []
      row.forEach((cell) => {
        cells.push(cellMarkdown(cell))
      })
      rows.push(cells)
    })
    const width = Math.max(...rows.map((r) => r.length))
    const line = (cells: readonly string[]) =>
      `| ${Array.from({ length: width }, (_, i) => cells[i] ?? '').join(' | ')} |`
    rows.forEach((cells, i) => {
      if (i > 0) state.ensureNewLine()
      state.write(line(cells))
      if (i === 0) {
        state.ensureNewLine()
        state.write(`|${' --- |'.repeat(width)}`)
      }
    })
    state.closeBlock(node)
  },
  image: (state, node) => {
    const title = node.attrs.title ? ` "${String(node.attrs.title).replace(/"/g, '\\"')}"` : ''
    const src = `${BLOB_SCHEME}${String(node.attrs.blobId).replace(/[()\s]/g, (c) => encodeURIComponent(c))}`
    state.write(`![${state.esc(node.attrs.alt ?? '')}](${src}${title})`)
  },
  hardBreak: (state, node, parent, index) => {
    for (let i = index + 1; i < parent.childCount; i++) {
      if (parent.child(i).type !== node.type) {
        state.write('\\\n')
        return
      }
    }
  },
  text: (state, node) => state.text(node.text ?? ''),
}

const serializer: MarkdownSerializer = new MarkdownSerializer(
  nodeWriters,
  {
    italic: { open: '*', close: '*', mixable: true, expelEnclosingWhitespace: true },
    bold: { open: '**', close: '**', mixable: true, expelEnclosingWhitespace: true },
    strike: { open: '~~', close: '~~', mixable: true, expelEnclosingWhitespace: true },
    // Markdown has no underline; it is dropped (HTML keeps it).
    underline: { open: '', close: '', mixable: true },
    link: {
      open: () => '[',
      close: (_state: MarkdownSerializerState, mark: Mark) => {
        const title = mark.attrs.title ? ` "${String(mark.attrs.title).replace(/"/g, '\\"')}"` : ''
        return `](${String(mark.attrs.href).replace(/[()"\s]/g, (c) => encodeURIComponent(c))}${title})`
      },
      mixable: true,
    },
    code: {
      open: (_s: MarkdownSerializerState, _m: Mark, parent: Node, index: number) =>
        backticksFor(parent.child(index), -1),
      close: (_s: MarkdownSerializerState, _m: Mark, parent: Node, index: number) =>
        backticksFor(parent.child(index - 1), 1),
      escape: false,
    },
  },
  { hardBreakNodeName: 'hardBreak' },
)

/**
 * Parse Markdown (CommonMark plus GFM tables and strikethrough) into a document of
 * {@link richTextSchema}. Images must be blob references (`![alt](valv-blob:<id>)`); other
 * images become their alt text. Raw HTML is kept as text.
 *
 * @example
 * ```ts
 * text.setNode(markdownToRichText('# Minutes\n\n**Present:** all'))
 * ```
 */
export function markdownToRichText(markdown: string): Node {
  let node: Node
  try {
    node = parser.parse(markdown)
    node.check()
  } catch (e) {
    throw new RichTextError('bad-content', (e as Error).message)
  }
  return node
}

/**
 * Serialise a document of {@link richTextSchema} as Markdown. Lossy where Markdown has no
 * syntax: underline is dropped, table cells are flattened to one line, the first table row
 * becomes the header row, and cell spans are ignored.
 */
export function richTextToMarkdown(doc: Node): string {
  return serializer.serialize(doc, { tightLists: true })
}
