import { parseSheetRange, type SheetValue, type SheetWorkbook } from '@valv/models'
import { NS, type OdfExportOptions, odfPackage } from './package.js'
import { esc, odfText } from './xml.js'

/** The part of a `Sheet` this writer reads. */
interface SheetLike {
  readonly name: string
  readonly rowCount: number
  readonly columnCount: number
  address(row: number, col: number): string
  getCell(a1: string): {
    readonly input: number | string | boolean | null
    readonly isFormula: boolean
    readonly value: SheetValue
    readonly text: string
  }
  mergedRanges(): readonly { readonly range: string }[]
}

const REF = /^\$?[A-Za-z]{1,3}\$?[0-9]{1,7}(?::\$?[A-Za-z]{1,3}\$?[0-9]{1,7})?(?![A-Za-z0-9_.(])/

/**
 * An A1 formula (`=SUM(A1:A3, 2)`) in OpenFormula syntax as ODF stores it
 * (`of:=SUM([.A1:.A3]; 2)`): references in brackets with a leading dot, `;` between arguments.
 * String literals are copied unchanged.
 */
export function toOpenFormula(formula: string): string {
  const f = formula.startsWith('=') ? formula.slice(1) : formula
  let out = ''
  let i = 0
  while (i < f.length) {
    const ch = f[i] as string
    if (ch === '"') {
      let j = i + 1
      while (j < f.length && !(f[j] === '"' && f[j + 1] !== '"')) j += f[j] === '"' ? 2 : 1
      out += f.slice(i, j + 1)
      i = j + 1
      continue
    }
    const prev = f[i - 1]
    const ref = prev !== undefined && /[A-Za-z0-9_.]/.test(prev) ? null : REF.exec(f.slice(i))
    if (ref) {
      out += `[${ref[0]
        .split(':')
        .map((part) => `.${part.toUpperCase()}`)
        .join(':')}]`
      i += ref[0].length
      continue
    }
    out += ch === ',' ? ';' : ch
    i++
  }
  return `of:=${out}`
}

function valueAttrs(value: SheetValue): string {
  if (typeof value === 'number' && Number.isFinite(value)) {
    return ` office:value-type="float" office:value="${value}"`
  }
  if (typeof value === 'boolean') {
    return ` office:value-type="boolean" office:boolean-value="${value}"`
  }
  if (value instanceof Date && !Number.isNaN(value.getTime())) {
    return ` office:value-type="date" office:date-value="${value.toISOString().replace(/\.\d{3}Z$/, '')}"`
  }
  if (value === null) return ''
  const text = typeof value === 'object' && 'error' in value ? value.error : String(value)
  return ` office:value-type="string" office:string-value="${esc(text)}"`
}

function cellXml(sheet: SheetLike, row: number, col: number, spans: string): string {
  const cell = sheet.getCell(sheet.address(row, col))
  if (cell.input === null && spans === '') return '<table:table-cell/>'
  const formula =
    cell.isFormula && typeof cell.input === 'string'
      ? ` table:formula="${esc(toOpenFormula(cell.input))}"`
      : ''
  const value = cell.isFormula ? cell.value : (cell.input as SheetValue)
  const text = cell.text === '' && value !== null ? String(value) : cell.text
  return `<table:table-cell${formula}${valueAttrs(value)}${spans}>${text === '' ? '' : `<text:p>${odfText(text)}</text:p>`}</table:table-cell>`
}

function tableXml(sheet: SheetLike): string {
  let rows = 0
  let cols = 0
  for (let r = 0; r < sheet.rowCount; r++) {
    for (let c = 0; c < sheet.columnCount; c++) {
      if (sheet.getCell(sheet.address(r, c)).input !== null) {
        rows = Math.max(rows, r + 1)
        cols = Math.max(cols, c + 1)
      }
    }
  }
  const starts = new Map<string, string>()
  const covered = new Set<string>()
  for (const { range } of sheet.mergedRanges()) {
    const m = parseSheetRange(range)
    rows = Math.max(rows, m.end.row + 1)
    cols = Math.max(cols, m.end.col + 1)
    const w = m.end.col - m.start.col + 1
    const h = m.end.row - m.start.row + 1
    starts.set(
      `${m.start.row}:${m.start.col}`,
      ` table:number-columns-spanned="${w}" table:number-rows-spanned="${h}"`,
    )
    for (let r = m.start.row; r <= m.end.row; r++) {
      for (let c = m.start.col; c <= m.end.col; c++) {
        if (r !== m.start.row || c !== m.start.col) covered.add(`${r}:${c}`)
      }
    }
  }
  let body = ''
  for (let r = 0; r < Math.max(rows, 1); r++) {
    let cells = ''
    for (let c = 0; c < Math.max(cols, 1); c++) {
      cells += covered.has(`${r}:${c}`)
        ? '<table:covered-table-cell/>'
        : cellXml(sheet, r, c, starts.get(`${r}:${c}`) ?? '')
    }
    body += `<table:table-row>${cells}</table:table-row>`
  }
  return `<table:table table:name="${esc(sheet.name)}"><table:table-column table:number-columns-repeated="${Math.max(cols, 1)}"/>${body}</table:table>`
}

/**
 * A workbook as OpenDocument Spreadsheet (`.ods`, ODF 1.3), written on the client: one table
 * per sheet, literal values with their types (number, text, boolean), formulas in OpenFormula
 * syntax with their last computed values, merged ranges, and the marking in the metadata.
 * Number formats are written as the formatted text only, and cell styles are not written yet.
 *
 * @example
 * ```ts
 * const bytes = workbookToOds(new SheetWorkbook(ydoc), { title: 'Budget 2027' })
 * ```
 */
export function workbookToOds(workbook: SheetWorkbook, options: OdfExportOptions = {}): Uint8Array {
  const tables = workbook
    .sheetNames()
    .map((name) => tableXml(workbook.sheet(name) as unknown as SheetLike))
    .join('\n')
  const content = `<office:document-content ${NS} office:version="1.3"><office:body><office:spreadsheet>
${tables}
</office:spreadsheet></office:body></office:document-content>`
  const styles = `<office:document-styles ${NS} office:version="1.3"><office:styles/></office:document-styles>`
  return odfPackage(
    { mediaType: 'application/vnd.oasis.opendocument.spreadsheet', content, styles },
    options,
  )
}
