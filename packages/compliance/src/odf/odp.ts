import type { Presentation } from '@valv/models'
import * as Y from 'yjs'
import { markingLine, NS, type OdfExportOptions, odfPackage } from './package.js'
import { esc, odfText } from './xml.js'

/** Options of {@link presentationToOdp}. */
export interface OdpExportOptions extends OdfExportOptions {
  /** Width of a slide in the model's units (default 1920); it becomes 28 cm. */
  readonly slideWidth?: number
  /** Height of a slide in the model's units (default 1080). */
  readonly slideHeight?: number
}

const DRAW_NS = [
  'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"',
  'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"',
].join(' ')
const PAGE_CM = 28
const COLOR = /^#[0-9a-fA-F]{6}$/
// Blocks whose children are blocks: flattened, one paragraph per leaf block.
const CONTAINERS = new Set(['bullet_list', 'ordered_list', 'list_item', 'blockquote', 'table'])

/** Text spans of one leaf block: bold/italic marks become automatic text styles T1–T3. */
function inline(node: Y.XmlElement | Y.XmlText): string {
  if (node instanceof Y.XmlText) {
    return (node.toDelta() as { insert: unknown; attributes?: Record<string, unknown> }[])
      .map((op) => {
        if (typeof op.insert !== 'string') return ''
        const a = op.attributes ?? {}
        const bold = 'bold' in a || 'strong' in a
        const italic = 'italic' in a || 'em' in a
        const text = odfText(op.insert)
        const style = bold && italic ? 'T3' : bold ? 'T1' : italic ? 'T2' : undefined
        return style === undefined
          ? text
          : `<text:span text:style-name="${style}">${text}</text:span>`
      })
      .join('')
  }
  if (node.nodeName === 'hard_break') return '<text:line-break/>'
  if (node.nodeName === 'image') return odfText(`[bild: ${node.getAttribute('alt') ?? ''}]`)
  return node
    .toArray()
    .map((c) => inline(c as Y.XmlElement | Y.XmlText))
    .join('')
}

function paragraphs(fragment: Y.XmlFragment | Y.XmlElement): string[] {
  const out: string[] = []
  for (const child of fragment.toArray()) {
    if (child instanceof Y.XmlElement && CONTAINERS.has(child.nodeName)) {
      out.push(...paragraphs(child))
    } else if (child instanceof Y.XmlElement || child instanceof Y.XmlText) {
      out.push(`<text:p>${inline(child)}</text:p>`)
    }
  }
  return out
}

/**
 * A presentation as OpenDocument Presentation (`.odp`, ODF 1.3), written on the client: one
 * page per slide in order, text boxes (paragraphs, bold, italic, line breaks; lists and quotes
 * flattened to paragraphs), rectangles, ellipses, lines and arrows with their fill and stroke,
 * images as their alt text (`[bild: …]`, the pictures are encrypted blobs and not embedded),
 * speaker notes, and the marking in the metadata and as a line at the top of every slide.
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises'
 *
 * const deck = new Presentation(ydoc)
 * const marking = readMarking(ydoc, KRT_SCHEME)
 * await writeFile('dragning.odp', presentationToOdp(deck, { title: 'Dragning', ...(marking && { marking }) }))
 * ```
 */
export function presentationToOdp(deck: Presentation, options: OdpExportOptions = {}): Uint8Array {
  const width = options.slideWidth ?? 1920
  const height = options.slideHeight ?? 1080
  const scale = PAGE_CM / width
  const pageHeight = height * scale
  const cm = (n: number) => `${(n * scale).toFixed(3)}cm`
  const box = (f: { x: number; y: number; width: number; height: number }) =>
    `svg:x="${cm(f.x)}" svg:y="${cm(f.y)}" svg:width="${cm(f.width)}" svg:height="${cm(f.height)}"`
  const graphics: string[] = []
  const graphicStyle = (fill: string | undefined, stroke: string | undefined, arrow: boolean) => {
    const name = `gr${graphics.length + 1}`
    const fillAttr =
      fill !== undefined && COLOR.test(fill)
        ? `draw:fill="solid" draw:fill-color="${fill}"`
        : 'draw:fill="none"'
    const strokeAttr =
      stroke !== undefined && COLOR.test(stroke)
        ? `draw:stroke="solid" svg:stroke-color="${stroke}"`
        : 'draw:stroke="solid"'
    const end = arrow ? ' draw:marker-end="Arrow" draw:marker-end-width="0.3cm"' : ''
    graphics.push(
      `<style:style style:name="${name}" style:family="graphic"><style:graphic-properties ${fillAttr} ${strokeAttr}${end}/></style:style>`,
    )
    return name
  }
  const marking =
    options.marking === undefined
      ? ''
      : `<draw:frame draw:layer="layout" svg:x="0.5cm" svg:y="0.2cm" svg:width="${(PAGE_CM - 1).toFixed(3)}cm" svg:height="0.8cm"><draw:text-box><text:p>${odfText(markingLine(options.marking))}</text:p></draw:text-box></draw:frame>`
  const pages = deck.slideIds().map((slideId, i) => {
    const shapes = deck.elementIds(slideId).map((id) => {
      const e = deck.getElement(slideId, id)
      const f = e.frame
      if (e.kind === 'text') {
        const ps = paragraphs(deck.text(slideId, id))
        return `<draw:frame draw:layer="layout" ${box(f)}><draw:text-box>${ps.join('') || '<text:p/>'}</draw:text-box></draw:frame>`
      }
      if (e.kind === 'image') {
        const alt = odfText(`[bild: ${e.blob?.alt ?? ''}]`)
        return `<draw:frame draw:layer="layout" ${box(f)}><draw:text-box><text:p>${alt}</text:p></draw:text-box></draw:frame>`
      }
      const line = e.shape === 'line' || e.shape === 'arrow'
      const style = graphicStyle(line ? undefined : e.fill, e.stroke, e.shape === 'arrow')
      if (line) {
        return `<draw:line draw:layer="layout" draw:style-name="${style}" svg:x1="${cm(f.x)}" svg:y1="${cm(f.y)}" svg:x2="${cm(f.x + f.width)}" svg:y2="${cm(f.y + f.height)}"/>`
      }
      const tag = e.shape === 'ellipse' ? 'draw:ellipse' : 'draw:rect'
      return `<${tag} draw:layer="layout" draw:style-name="${style}" ${box(f)}/>`
    })
    const notes = deck.notes(slideId).toString()
    const notesXml =
      notes === ''
        ? ''
        : `<presentation:notes><draw:frame presentation:class="notes" svg:x="2cm" svg:y="14cm" svg:width="17cm" svg:height="10cm"><draw:text-box>${notes
            .split('\n')
            .map((l) => `<text:p>${odfText(l)}</text:p>`)
            .join('')}</draw:text-box></draw:frame></presentation:notes>`
    return `<draw:page draw:name="${esc(`Bild ${i + 1}`)}" draw:master-page-name="Default">${marking}${shapes.join('')}${notesXml}</draw:page>`
  })
  const content = `<office:document-content ${NS} ${DRAW_NS} office:version="1.3"><office:automatic-styles>
<style:style style:name="T1" style:family="text"><style:text-properties fo:font-weight="bold"/></style:style>
<style:style style:name="T2" style:family="text"><style:text-properties fo:font-style="italic"/></style:style>
<style:style style:name="T3" style:family="text"><style:text-properties fo:font-weight="bold" fo:font-style="italic"/></style:style>
${graphics.join('\n')}
</office:automatic-styles><office:body><office:presentation>
${pages.join('\n') || '<draw:page draw:name="Bild 1" draw:master-page-name="Default"/>'}
</office:presentation></office:body></office:document-content>`
  const styles = `<office:document-styles ${NS} ${DRAW_NS} office:version="1.3"><office:styles>
<draw:marker draw:name="Arrow" svg:viewBox="0 0 20 30" svg:d="M10 0l-10 30h20z"/>
</office:styles><office:automatic-styles><style:page-layout style:name="PM1"><style:page-layout-properties fo:margin-top="0cm" fo:margin-bottom="0cm" fo:margin-left="0cm" fo:margin-right="0cm" fo:page-width="${PAGE_CM}cm" fo:page-height="${pageHeight.toFixed(3)}cm" style:print-orientation="landscape"/></style:page-layout><style:style style:name="dp1" style:family="drawing-page"/></office:automatic-styles>
<office:master-styles><style:master-page style:name="Default" style:page-layout-name="PM1" draw:style-name="dp1"/></office:master-styles></office:document-styles>`
  return odfPackage(
    { mediaType: 'application/vnd.oasis.opendocument.presentation', content, styles },
    options,
  )
}
