import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Presentation, RichText, SheetWorkbook } from '@valv/models'
import fc from 'fast-check'
import { strFromU8, unzipSync } from 'fflate'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  type Marking,
  presentationToOdp,
  richTextToOdt,
  toOpenFormula,
  workbookToOds,
} from '../src/index.js'

const run = promisify(execFile)
// biome-ignore lint/suspicious/noControlCharactersInRegex: what XML cannot carry, the writer drops
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g
const dir = mkdtempSync(join(tmpdir(), 'valv-odf-'))
const profile = join(dir, 'profile')

// LibreOffice (Debian `libreoffice-writer-nogui`, `libreoffice-calc-nogui`) converts the files,
// with its own profile that recalculates every formula on load, so values read back come from
// LibreOffice evaluating our formulas, not from the values we cached.
beforeAll(() => {
  mkdirSync(join(profile, 'user'), { recursive: true })
  writeFileSync(
    join(profile, 'user', 'registrymodifications.xcu'),
    `<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
`,
  )
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Convert `files` with LibreOffice headless; resolves with the output paths. */
async function soffice(target: string, ...files: string[]): Promise<string[]> {
  const out = join(dir, `out-${target.replace(/\W/g, '')}`)
  await run(
    'soffice',
    [
      `-env:UserInstallation=file://${profile}`,
      '--headless',
      '--convert-to',
      target,
      '--outdir',
      out,
      ...files,
    ],
    { timeout: 120_000 },
  )
  const ext = target.split(':')[0] as string
  return files.map((f) =>
    join(out, `${(f.split('/').pop() as string).replace(/\.[^.]+$/, '')}.${ext}`),
  )
}

const marking: Marking = {
  level: 'K2',
  secrecy: { provision: 'OSL 21 kap. 7 §', date: '2026-12-07', authority: 'Socialnämnden' },
}

function richText(): RichText {
  const text = RichText.fromDoc(new Y.Doc())
  text.setJSON({
    type: 'doc',
    content: [
      {
        type: 'heading',
        attrs: { level: 1 },
        content: [{ type: 'text', text: 'Beslut om åtgärd' }],
      },
      {
        type: 'paragraph',
        content: [
          { type: 'text', text: 'Räksmörgås ' },
          { type: 'text', text: 'fet', marks: [{ type: 'bold' }] },
          { type: 'text', text: ' och ' },
          { type: 'text', text: 'kursiv', marks: [{ type: 'italic' }, { type: 'underline' }] },
          { type: 'text', text: ', länk: ' },
          {
            type: 'text',
            text: 'riksarkivet',
            marks: [{ type: 'link', attrs: { href: 'https://riksarkivet.se/?a=1&b=<2>' } }],
          },
          { type: 'hardBreak' },
          { type: 'text', text: 'två  mellanslag & <tecken> "citat"' },
        ],
      },
      {
        type: 'bulletList',
        content: ['Äpple', 'Örn'].map((t) => ({
          type: 'listItem',
          content: [{ type: 'paragraph', content: [{ type: 'text', text: t }] }],
        })),
      },
      {
        type: 'orderedList',
        attrs: { start: 3 },
        content: [
          {
            type: 'listItem',
            content: [{ type: 'paragraph', content: [{ type: 'text', text: 'tredje' }] }],
          },
        ],
      },
      {
        type: 'blockquote',
        content: [{ type: 'paragraph', content: [{ type: 'text', text: 'citerat' }] }],
      },
      { type: 'codeBlock', content: [{ type: 'text', text: 'if (a) {\n  b()\n}' }] },
      {
        type: 'table',
        content: [
          {
            type: 'tableRow',
            content: [
              {
                type: 'tableHeader',
                attrs: { colspan: 2 },
                content: [{ type: 'paragraph', content: [{ type: 'text', text: 'Rubrik' }] }],
              },
            ],
          },
          {
            type: 'tableRow',
            content: ['ö1', 'ä2'].map((t) => ({
              type: 'tableCell',
              content: [{ type: 'paragraph', content: [{ type: 'text', text: t }] }],
            })),
          },
        ],
      },
      { type: 'paragraph', content: [{ type: 'image', attrs: { blobId: 'b1', alt: 'karta' } }] },
    ],
  })
  return text
}

function workbook(): SheetWorkbook {
  const book = new SheetWorkbook(new Y.Doc())
  const s = book.addSheet('Budget åäö', { rows: 20, columns: 6 })
  s.setCell('A1', 'Post')
  s.setCell('B1', 'Belopp')
  s.setCell('A2', 'Löner')
  s.setCell('B2', 1200.5)
  s.setCell('A3', 'Hyra')
  s.setCell('B3', 800)
  s.setCell('A4', 'Summa')
  s.setFormula('B4', '=SUM(B2:B3)')
  s.setFormula('C4', '=IF(B4>1000,"över","under")')
  s.setFormula('D4', '=ROUND(AVERAGE(B2,B3)*2,1)')
  s.setCell('E1', true)
  s.setFormula('E2', '=CONCATENATE(A2," & ",A3)')
  s.merge('A6:B6')
  s.setCell('A6', 'sammanslagen')
  const t = book.addSheet('Två', { rows: 5, columns: 3 })
  t.setCell('A1', 'ö')
  t.setFormula('B1', '=LEN(A1)+$A$3')
  t.setCell('A3', 10)
  return book
}

describe('OpenDocument export', () => {
  it('packages as ODF wants: mimetype first and stored, manifest naming every part', () => {
    for (const [bytes, type] of [
      [richTextToOdt(richText(), { marking }), 'text'],
      [workbookToOds(workbook()), 'spreadsheet'],
    ] as const) {
      expect(strFromU8(bytes.subarray(30, 38))).toBe('mimetype')
      expect(bytes[8]).toBe(0) // compression method "stored"
      const files = unzipSync(bytes)
      expect(Object.keys(files)[0]).toBe('mimetype')
      expect(strFromU8(files.mimetype!)).toBe(`application/vnd.oasis.opendocument.${type}`)
      const manifest = strFromU8(files['META-INF/manifest.xml']!)
      for (const part of ['content.xml', 'styles.xml', 'meta.xml']) {
        expect(files[part]).toBeDefined()
        expect(manifest).toContain(`manifest:full-path="${part}"`)
      }
    }
  })

  it('the marking is in the metadata and in the page header', () => {
    const files = unzipSync(richTextToOdt(richText(), { marking, title: 'Beslut' }))
    const meta = strFromU8(files['meta.xml']!)
    expect(meta).toContain('<meta:user-defined meta:name="Klassificering">K2</meta:user-defined>')
    expect(meta).toContain(
      '<meta:user-defined meta:name="Sekretess">OSL 21 kap. 7 §</meta:user-defined>',
    )
    expect(strFromU8(files['styles.xml']!)).toContain('Sekretess enligt OSL 21 kap. 7 §')
  })

  it('formulas become OpenFormula; string literals are left alone', () => {
    expect(toOpenFormula('=SUM(B2:B3)')).toBe('of:=SUM([.B2:.B3])')
    expect(toOpenFormula('=IF(A1>1,"A1, B2",$C$3)')).toBe('of:=IF([.A1]>1;"A1, B2";[.$C$3])')
    expect(toOpenFormula('=LOG10(A1)')).toBe('of:=LOG10([.A1])')
    expect(toOpenFormula('="say ""A1"""&A1')).toBe('of:="say ""A1"""&[.A1]')
  })

  it('LibreOffice opens both, converts them to PDF, and reads back text, values and formulas', async () => {
    const odt = join(dir, 'beslut.odt')
    const ods = join(dir, 'budget.ods')
    const book = workbook()
    writeFileSync(odt, richTextToOdt(richText(), { marking, title: 'Beslut' }))
    writeFileSync(ods, workbookToOds(book, { marking }))

    const pdfs = await soffice('pdf', odt, ods)
    for (const pdf of pdfs) {
      const bytes = readFileSync(pdf)
      expect(bytes.subarray(0, 5).toString()).toBe('%PDF-')
      expect(bytes.length).toBeGreaterThan(1000)
    }

    const [txt] = await soffice('txt:Text (encoded):UTF8,LF,,,', odt)
    const text = readFileSync(txt!, 'utf8')
    for (const line of [
      'Beslut om åtgärd',
      'Räksmörgås fet och kursiv, länk: riksarkivet',
      'två  mellanslag & <tecken> "citat"',
      'Äpple',
      'Örn',
      'tredje',
      'citerat',
      '  b()',
      'Rubrik',
      'ö1',
      '[bild: karta]',
    ]) {
      expect(text).toContain(line)
    }
    expect(text).toMatch(/3\.\s*tredje/)

    // Sheet 1 to CSV (UTF-8, comma, quoted text): LibreOffice recalculated every formula.
    const [csv] = await soffice('csv:Text - txt - csv (StarCalc):44,34,76,1,,0,true,true', ods)
    const rows = readFileSync(csv!, 'utf8').trim().split('\n')
    expect(rows[0]).toBe('"Post","Belopp",,,TRUE')
    expect(rows[1]).toBe('"Löner",1200.5,,,"Löner & Hyra"')
    expect(rows[3]).toBe('"Summa",2000.5,"över",2000.5,')
    expect(rows[5]).toBe('"sammanslagen",,,,')
    const s = book.sheet('Budget åäö')
    expect(s.getValue('B4')).toBe(2000.5)
    expect(s.getValue('C4')).toBe('över')

    // Flat ODF written back by LibreOffice keeps the formulas as formulas.
    const [fods] = await soffice('fods', ods)
    const flat = readFileSync(fods!, 'utf8')
    expect(flat).toContain('table:formula="of:=SUM([.B2:.B3])"')
    // (The sheet model keeps references by row/column id and shows them without `$`.)
    expect(flat).toContain('table:formula="of:=LEN([.A1])+[.A3]"')
    expect(flat).toMatch(
      /table:formula="of:=LEN\(\[\.A1\]\)\+\[\.A3\]" office:value-type="float" office:value="11"/,
    )
    expect(flat).toContain('table:name="Två"')
    expect(flat).toContain('table:number-columns-spanned="2"')
  }, 240_000)

  it('property: any text survives into content.xml as well-formed, escaped, unchanged text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        const text = RichText.fromDoc(new Y.Doc())
        text.setJSON({
          type: 'doc',
          content: [{ type: 'paragraph', content: s === '' ? [] : [{ type: 'text', text: s }] }],
        })
        const xml = strFromU8(unzipSync(richTextToOdt(text))['content.xml']!)
        const para = /<office:text>\n<text:p>(.*)<\/text:p>\n<\/office:text>/s.exec(xml)?.[1]
        expect(para).toBeDefined()
        // Undo exactly what the writer does; what remains must be the input minus characters
        // XML cannot carry.
        const back = (para as string)
          .replace(/<text:s text:c="(\d+)"\/>/g, (_, n: string) => ' '.repeat(Number(n)))
          .replaceAll('<text:s/>', ' ')
          .replaceAll('<text:tab/>', '\t')
          .replaceAll('<text:line-break/>', '\n')
        expect(back).not.toMatch(/<|>/)
        const unescaped = back
          .replaceAll('&lt;', '<')
          .replaceAll('&gt;', '>')
          .replaceAll('&quot;', '"')
          .replaceAll('&amp;', '&')
        expect(unescaped).toBe(s.replace(NOT_XML, ''))
      }),
      { numRuns: 300 },
    )
  })
})

/** A two-slide deck: a title with bold and italic, a list, shapes, an image and notes. */
function deck(): Presentation {
  const p = new Presentation(new Y.Doc())
  const one = p.addSlide()
  const title = p.addElement(one, { kind: 'text' }, { x: 100, y: 100, width: 1700, height: 200 })
  const para = new Y.XmlElement('paragraph')
  const t = new Y.XmlText()
  para.insert(0, [t])
  p.text(one, title).insert(0, [para])
  t.insert(0, 'Lägesbild för nämnden: ')
  t.insert(t.length, 'viktigt', { bold: true })
  t.insert(t.length, ' och ')
  t.insert(t.length, 'kursivt', { italic: true })
  const list = new Y.XmlElement('bullet_list')
  const item = new Y.XmlElement('list_item')
  const ip = new Y.XmlElement('paragraph')
  const it = new Y.XmlText()
  ip.insert(0, [it])
  item.insert(0, [ip])
  list.insert(0, [item])
  p.text(one, title).insert(1, [list])
  it.insert(0, 'Punkt ett: räksmörgås')
  p.addElement(
    one,
    { kind: 'shape', shape: 'rect', fill: '#3366cc', stroke: '#000000' },
    { x: 200, y: 500, width: 400, height: 300 },
  )
  p.addElement(
    one,
    { kind: 'shape', shape: 'ellipse', fill: '#cc3333' },
    { x: 800, y: 500, width: 300, height: 300 },
  )
  p.addElement(
    one,
    { kind: 'shape', shape: 'arrow', stroke: '#00aa00' },
    { x: 1200, y: 600, width: 400, height: 100 },
  )
  p.notes(one).insert(0, 'Talarnotering: säg något om åäö')
  const two = p.addSlide()
  const body = p.addElement(two, { kind: 'text' }, { x: 100, y: 300, width: 1700, height: 400 })
  const bp = new Y.XmlElement('paragraph')
  const bt = new Y.XmlText()
  bp.insert(0, [bt])
  p.text(two, body).insert(0, [bp])
  bt.insert(0, 'Andra bilden <&> "citat"')
  p.addElement(
    two,
    { kind: 'image', blob: { blobId: 'b1', mimeType: 'image/png', alt: 'Karta över Östersund' } },
    { x: 100, y: 800, width: 400, height: 200 },
  )
  return p
}

describe('ODP export', () => {
  it('LibreOffice Impress opens it: PDF conversion succeeds, and its own re-save has every slide, text, shape, note and the marking', async () => {
    const file = join(dir, 'dragning.odp')
    writeFileSync(file, presentationToOdp(deck(), { title: 'Dragning', marking }))
    const zip = unzipSync(readFileSync(file))
    expect(strFromU8(zip.mimetype as Uint8Array)).toBe(
      'application/vnd.oasis.opendocument.presentation',
    )
    expect(strFromU8(zip['meta.xml'] as Uint8Array)).toContain(
      '<meta:user-defined meta:name="Klassificering">K2</meta:user-defined>',
    )

    const [pdf] = await soffice('pdf', file)
    expect(
      readFileSync(pdf as string)
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-')
    // LibreOffice's own flat-XML re-save: what it read from our file.
    const [flat] = await soffice('fodp', file)
    const xml = readFileSync(flat as string, 'utf8')
    expect(xml.match(/<draw:page /g)).toHaveLength(2)
    const text = xml.replace(/<text:s\/>/g, ' ').replace(/<[^>]+>/g, '')
    for (const s of [
      'Lägesbild för nämnden: viktigt och kursivt',
      'Punkt ett: räksmörgås',
      'Andra bilden &lt;&amp;&gt; &quot;citat&quot;',
      '[bild: Karta över Östersund]',
      'Talarnotering: säg något om åäö',
      'Klassificering K2 · Sekretess enligt OSL 21 kap. 7 §',
    ]) {
      expect(text).toContain(s)
    }
    expect(xml).toMatch(/<draw:rect [^>]*svg:width="5\.83\d*cm"/)
    expect(xml).toMatch(/<draw:(ellipse|circle) /) // a round ellipse comes back as a circle
    expect(xml).toMatch(/<draw:line /)
    expect(xml).toMatch(/fo:font-weight="bold"/)
    expect(xml).toMatch(/draw:fill-color="#3366cc"/)
  }, 180_000)
})
