import { SheetError } from './errors.js'
import { parseFormula, tokenizeFormula } from './formula-parser.js'
import type { Sheet } from './sheet.js'

/**
 * Parse RFC 4180 CSV into rows of fields. Accepts CRLF or LF line ends; a final line end is
 * optional. Quoted fields may hold commas, quotes (`""`) and line breaks.
 *
 * @example
 * ```ts
 * parseCsv('a,"b,c"\r\n1,2\r\n') // [['a', 'b,c'], ['1', '2']]
 * ```
 */
export function parseCsv(text: string, delimiter = ','): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let i = 0
  let quoted = false
  const endField = (): void => {
    row.push(field)
    field = ''
  }
  while (i < text.length) {
    const ch = text[i] as string
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i += 2
          continue
        }
        quoted = false
        i++
        const next = text[i]
        if (next !== undefined && next !== delimiter && next !== '\r' && next !== '\n') {
          throw new SheetError('bad-csv', `text after a closing quote at ${i}`)
        }
        continue
      }
      field += ch
      i++
      continue
    }
    if (ch === '"' && field === '') {
      quoted = true
      i++
    } else if (ch === delimiter) {
      endField()
      i++
    } else if (ch === '\r' || ch === '\n') {
      endField()
      rows.push(row)
      row = []
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1
    } else {
      field += ch
      i++
    }
  }
  if (quoted) throw new SheetError('bad-csv', 'unterminated quoted field')
  if (field !== '' || row.length > 0 || (text.length > 0 && !/[\r\n]$/.test(text))) {
    endField()
    rows.push(row)
  }
  return rows
}

/**
 * Write rows as RFC 4180 CSV with CRLF line ends. A field is quoted when it holds the delimiter,
 * a quote or a line break; a row made of one empty field is written `""` so it is not lost.
 */
export function formatCsv(rows: readonly (readonly string[])[], delimiter = ','): string {
  const needs = new RegExp(`["\\r\\n${delimiter.replace(/[\\\]^-]/g, '\\$&')}]`)
  return rows
    .map((r) =>
      r.length === 1 && r[0] === ''
        ? '""'
        : r.map((f) => (needs.test(f) ? `"${f.replaceAll('"', '""')}"` : f)).join(delimiter),
    )
    .map((line) => `${line}\r\n`)
    .join('')
}

/** Options of {@link importSheetCsv}. */
export interface SheetCsvImportOptions {
  /** `input` (default) parses numbers, booleans and `=` formulas; `text` stores every field. */
  readonly mode?: 'input' | 'text'
  readonly delimiter?: string
}

/**
 * Load CSV into a sheet starting at A1, growing the sheet to fit. One transaction, so remote
 * replicas see the import at once and one undo step reverts it. Parse errors change nothing.
 */
export function importSheetCsv(
  sheet: Sheet,
  csv: string,
  options: SheetCsvImportOptions = {},
): void {
  const rows = parseCsv(csv, options.delimiter ?? ',')
  const width = Math.max(0, ...rows.map((r) => r.length))
  if (options.mode !== 'text') {
    // Validate every formula before writing anything, so a bad one leaves the sheet unchanged.
    const maxRow = Math.max(sheet.rowCount, rows.length)
    const maxCol = Math.max(sheet.columnCount, width)
    for (const f of rows.flat()) {
      if (!f.startsWith('=') || f.length < 2) continue
      parseFormula(f)
      for (const t of tokenizeFormula(f.slice(1))) {
        if (t.ref?.kind === 'a1' && (t.ref.row >= maxRow || t.ref.col >= maxCol)) {
          throw new SheetError('out-of-range', `${t.text} is outside the imported sheet`)
        }
      }
    }
  }
  sheet.transact(() => {
    if (sheet.rowCount < rows.length) sheet.insertRows(sheet.rowCount, rows.length - sheet.rowCount)
    if (sheet.columnCount < width) {
      sheet.insertColumns(sheet.columnCount, width - sheet.columnCount)
    }
    for (const [row, r] of rows.entries()) {
      for (const [col, field] of r.entries()) {
        const a1 = sheet.address(row, col)
        if (options.mode === 'text') sheet.setCell(a1, field === '' ? null : field)
        else sheet.setCellInput(a1, field)
      }
    }
  })
}

/** Options of {@link exportSheetCsv}. */
export interface SheetCsvExportOptions {
  /** `input` (default) writes what was typed (formulas as `=…`); `value` writes formatted values. */
  readonly mode?: 'input' | 'value'
  readonly delimiter?: string
}

/** Write the whole sheet (every row and column) as CSV. */
export function exportSheetCsv(sheet: Sheet, options: SheetCsvExportOptions = {}): string {
  const out: string[][] = []
  for (let row = 0; row < sheet.rowCount; row++) {
    const line: string[] = []
    for (let col = 0; col < sheet.columnCount; col++) {
      const cell = sheet.getCell(sheet.address(row, col))
      if (options.mode === 'value') line.push(cell.text)
      else line.push(cell.input === null ? '' : inputText(cell.input))
    }
    out.push(line)
  }
  return formatCsv(out, options.delimiter ?? ',')
}

function inputText(v: number | string | boolean): string {
  return typeof v === 'boolean' ? (v ? 'TRUE' : 'FALSE') : String(v)
}
