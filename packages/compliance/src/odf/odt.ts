import type { RichText } from '@valv/models'
import { ComplianceError } from '../errors.js'
import { markingLine, NS, type OdfExportOptions, odfPackage } from './package.js'
import { esc, odfText } from './xml.js'

/** The shape of a ProseMirror node this writer reads (what `RichText.toNode()` returns). */
interface PmNode {
  readonly type: { readonly name: string }
  readonly attrs: Readonly<Record<string, unknown>>
  readonly marks: readonly {
    readonly type: { readonly name: string }
    readonly attrs: Readonly<Record<string, unknown>>
  }[]
  readonly text?: string | undefined
  readonly childCount: number
  child(index: number): PmNode
  readonly textContent: string
}

const children = (node: PmNode): PmNode[] =>
  Array.from({ length: node.childCount }, (_, i) => node.child(i))

const SAFE_LINK = /^(https?:|mailto:)/i
const MAX_DEPTH = 64

/** Text styles by mark combination, created as the document needs them. */
class TextStyles {
  readonly #names = new Map<string, string>()

  nameFor(marks: readonly string[]): string | undefined {
    const key = [...marks].sort().join('+')
    if (key === '') return undefined
    let name = this.#names.get(key)
    if (name === undefined) {
      name = `T${this.#names.size + 1}`
      this.#names.set(key, name)
    }
    return name
  }

  xml(): string {
    let out = ''
    for (const [key, name] of this.#names) {
      const m = new Set(key.split('+'))
      const props = [
        m.has('bold') ? 'fo:font-weight="bold" style:font-weight-asian="bold"' : '',
        m.has('italic') ? 'fo:font-style="italic" style:font-style-asian="italic"' : '',
        m.has('underline')
          ? 'style:text-underline-style="solid" style:text-underline-width="auto" style:text-underline-color="font-color"'
          : '',
        m.has('strike') ? 'style:text-line-through-style="solid"' : '',
        m.has('code') ? 'fo:font-family="monospace" style:font-family-generic="modern"' : '',
      ]
      out += `<style:style style:name="${name}" style:family="text"><style:text-properties ${props.filter(Boolean).join(' ')}/></style:style>`
    }
    return out
  }
}

class OdtWriter {
  readonly styles = new TextStyles()

  inline(node: PmNode): string {
    let out = ''
    for (const child of children(node)) {
      const name = child.type.name
      if (name === 'hardBreak') {
        out += '<text:line-break/>'
        continue
      }
      if (name === 'image') {
        // The picture itself is encrypted elsewhere (a blob); the archive copy keeps its text.
        const alt = typeof child.attrs.alt === 'string' ? child.attrs.alt : ''
        out += odfText(`[bild${alt ? `: ${alt}` : ''}]`)
        continue
      }
      let text = odfText(child.text ?? '')
      const marks = child.marks.map((m) => m.type.name).filter((m) => m !== 'link')
      const style = this.styles.nameFor(marks)
      if (style !== undefined) text = `<text:span text:style-name="${style}">${text}</text:span>`
      const link = child.marks.find((m) => m.type.name === 'link')
      const href = link?.attrs.href
      if (typeof href === 'string' && SAFE_LINK.test(href)) {
        text = `<text:a xlink:type="simple" xlink:href="${esc(href)}">${text}</text:a>`
      }
      out += text
    }
    return out
  }

  /** One block; `style` is the paragraph style a container imposes (quotes, code). */
  block(node: PmNode, depth: number, style?: string, inList = false): string {
    if (depth > MAX_DEPTH) throw new ComplianceError('unsupported', 'document nests too deeply')
    const p = (content: string, s = style) =>
      `<text:p${s === undefined ? '' : ` text:style-name="${s}"`}>${content}</text:p>`
    switch (node.type.name) {
      case 'paragraph':
        return p(this.inline(node))
      case 'heading': {
        const level = Math.min(6, Math.max(1, Number(node.attrs.level) || 1))
        return `<text:h text:style-name="Heading_20_${level}" text:outline-level="${level}">${this.inline(node)}</text:h>`
      }
      case 'blockquote':
        return children(node)
          .map((c) => this.block(c, depth + 1, 'Quotations', inList))
          .join('')
      case 'codeBlock':
        return p(odfText(node.textContent), 'Preformatted_20_Text')
      case 'horizontalRule':
        return p('', 'Horizontal_20_Line')
      case 'bulletList':
      case 'orderedList': {
        const ordered = node.type.name === 'orderedList'
        const start = Number(node.attrs.start) || 1
        const items = children(node).map((item, i) => {
          const startAttr = ordered && i === 0 && start !== 1 ? ` text:start-value="${start}"` : ''
          const body = children(item)
            .map((c) => this.block(c, depth + 1, style, true))
            .join('')
          return `<text:list-item${startAttr}>${body}</text:list-item>`
        })
        return `<text:list text:style-name="${ordered ? 'LNumbered' : 'LBullet'}">${items.join('')}</text:list>`
      }
      case 'table':
        // A list item cannot hold a table in ODF: keep its text as tab-separated lines.
        if (inList) {
          return children(node)
            .map((row) =>
              p(
                children(row)
                  .map((cell) => odfText(cell.textContent))
                  .join('<text:tab/>'),
              ),
            )
            .join('')
        }
        return this.table(node, depth)
      default:
        return p(odfText(node.textContent))
    }
  }

  table(node: PmNode, depth: number): string {
    const rows = children(node)
    // Lay the cells on a grid so row and column spans leave covered cells where ODF wants them.
    const taken: boolean[][] = rows.map(() => [])
    const grid: string[][] = rows.map(() => [])
    let width = 0
    rows.forEach((row, r) => {
      let c = 0
      for (const cell of children(row)) {
        while (taken[r]?.[c]) c++
        const colspan = Math.max(1, Number(cell.attrs.colspan) || 1)
        const rowspan = Math.min(rows.length - r, Math.max(1, Number(cell.attrs.rowspan) || 1))
        for (let dr = 0; dr < rowspan; dr++) {
          for (let dc = 0; dc < colspan; dc++) (taken[r + dr] as boolean[])[c + dc] = true
        }
        const spans =
          (colspan > 1 ? ` table:number-columns-spanned="${colspan}"` : '') +
          (rowspan > 1 ? ` table:number-rows-spanned="${rowspan}"` : '')
        const body = children(cell)
          .map((b) => this.block(b, depth + 1))
          .join('')
        ;(grid[r] as string[])[c] =
          `<table:table-cell office:value-type="string"${spans}>${body || '<text:p/>'}</table:table-cell>`
        c += colspan
        width = Math.max(width, c)
      }
    })
    width = Math.max(width, ...taken.map((t) => t.length))
    const xmlRows = grid.map((cells, r) => {
      let out = ''
      for (let c = 0; c < width; c++) {
        out += cells[c] ?? (taken[r]?.[c] ? '<table:covered-table-cell/>' : '<table:table-cell/>')
      }
      return `<table:table-row>${out}</table:table-row>`
    })
    return `<table:table table:style-name="Tbl"><table:table-column table:number-columns-repeated="${Math.max(1, width)}"/>${xmlRows.join('')}</table:table>`
  }
}

const LIST_STYLES = `<text:list-style style:name="LBullet">${[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
  .map(
    (l) =>
      `<text:list-level-style-bullet text:level="${l}" text:bullet-char="•"><style:list-level-properties text:list-level-position-and-space-mode="label-alignment"><style:list-level-label-alignment text:label-followed-by="listtab" fo:text-indent="-0.635cm" fo:margin-left="${(0.635 * (l + 1)).toFixed(3)}cm"/></style:list-level-properties></text:list-level-style-bullet>`,
  )
  .join('')}</text:list-style><text:list-style style:name="LNumbered">${[
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
]
  .map(
    (l) =>
      `<text:list-level-style-number text:level="${l}" style:num-suffix="." style:num-format="1"><style:list-level-properties text:list-level-position-and-space-mode="label-alignment"><style:list-level-label-alignment text:label-followed-by="listtab" fo:text-indent="-0.635cm" fo:margin-left="${(0.635 * (l + 1)).toFixed(3)}cm"/></style:list-level-properties></text:list-level-style-number>`,
  )
  .join('')}</text:list-style>`

const HEADING_SIZES = ['130%', '115%', '101%', '95%', '85%', '85%']

function stylesXml(options: OdfExportOptions): string {
  const headings = HEADING_SIZES.map(
    (size, i) =>
      `<style:style style:name="Heading_20_${i + 1}" style:display-name="Heading ${i + 1}" style:family="paragraph" style:parent-style-name="Standard" style:next-style-name="Standard" style:default-outline-level="${i + 1}"><style:paragraph-properties fo:margin-top="0.4cm" fo:margin-bottom="0.2cm" fo:keep-with-next="always"/><style:text-properties fo:font-size="${size}" fo:font-weight="bold"/></style:style>`,
  ).join('')
  const header =
    options.marking === undefined
      ? ''
      : `<style:header><text:p text:style-name="Header">${odfText(markingLine(options.marking))}</text:p></style:header>`
  return `<office:document-styles ${NS} office:version="1.3"><office:styles>
<style:style style:name="Standard" style:family="paragraph"><style:paragraph-properties fo:margin-bottom="0.25cm"/></style:style>
${headings}
<style:style style:name="Quotations" style:family="paragraph" style:parent-style-name="Standard"><style:paragraph-properties fo:margin-left="1cm" fo:margin-right="1cm"/><style:text-properties fo:font-style="italic"/></style:style>
<style:style style:name="Preformatted_20_Text" style:display-name="Preformatted Text" style:family="paragraph" style:parent-style-name="Standard"><style:text-properties fo:font-family="monospace" style:font-family-generic="modern"/></style:style>
<style:style style:name="Horizontal_20_Line" style:display-name="Horizontal Line" style:family="paragraph" style:parent-style-name="Standard"><style:paragraph-properties fo:border-bottom="0.06pt solid #808080"/></style:style>
<style:style style:name="Header" style:family="paragraph" style:parent-style-name="Standard"><style:text-properties fo:font-size="9pt"/></style:style>
</office:styles><office:automatic-styles><style:page-layout style:name="pm1"><style:page-layout-properties fo:page-width="21cm" fo:page-height="29.7cm" fo:margin-top="2cm" fo:margin-bottom="2cm" fo:margin-left="2cm" fo:margin-right="2cm"/></style:page-layout></office:automatic-styles>
<office:master-styles><style:master-page style:name="Standard" style:page-layout-name="pm1">${header}</style:master-page></office:master-styles></office:document-styles>`
}

/**
 * A rich text document as OpenDocument Text (`.odt`, ODF 1.3), written on the client: headings,
 * paragraphs, bold/italic/underline/strike/code, links (http, https, mailto), bullet and
 * numbered lists, block quotes, code blocks, tables with spans, and the marking in metadata
 * and page header. Images are kept as their alt text (`[bild: …]`), not embedded.
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises'
 *
 * const marking = readMarking(ydoc, KRT_SCHEME)
 * const odt = richTextToOdt(text, { title: 'Beslut', ...(marking && { marking }) })
 * await writeFile('beslut.odt', odt) // marking in the page header and the metadata
 * ```
 */
export function richTextToOdt(text: RichText, options: OdfExportOptions = {}): Uint8Array {
  const root = text.toNode() as unknown as PmNode
  const writer = new OdtWriter()
  const body = children(root)
    .map((b) => writer.block(b, 0))
    .join('\n')
  const content = `<office:document-content ${NS} office:version="1.3"><office:automatic-styles>${writer.styles.xml()}${LIST_STYLES}</office:automatic-styles><office:body><office:text>
${body || '<text:p/>'}
</office:text></office:body></office:document-content>`
  return odfPackage(
    { mediaType: 'application/vnd.oasis.opendocument.text', content, styles: stylesXml(options) },
    options,
  )
}
