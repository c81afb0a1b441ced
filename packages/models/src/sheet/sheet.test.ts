import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { parseSheetAddress, sheetColumnIndex, sheetColumnName } from './address.js'
import { exportSheetCsv, formatCsv, importSheetCsv, parseCsv } from './csv.js'
import { SheetError } from './errors.js'
import { parseFormula } from './formula-parser.js'
import type { SheetEvent } from './types.js'
import { SheetWorkbook } from './workbook.js'

const newSheet = (rows = 10, columns = 5) =>
  new SheetWorkbook(new Y.Doc()).addSheet('S', { rows, columns })

describe('workbook', () => {
  it('adds, finds, renames and removes sheets; rejects bad input unchanged', () => {
    const book = new SheetWorkbook(new Y.Doc())
    const a = book.addSheet('A', { rows: 2, columns: 2 })
    book.addSheet('B')
    expect(book.sheetNames()).toEqual(['A', 'B'])
    expect(() => book.addSheet('A')).toThrowError(
      expect.objectContaining({ code: 'duplicate-sheet' }),
    )
    expect(() => book.addSheet('C', { rows: -1 })).toThrowError(SheetError)
    a.rename('Alpha')
    expect(book.sheet('Alpha').id).toBe(a.id)
    book.removeSheet('B')
    expect(book.sheetNames()).toEqual(['Alpha'])
    expect(() => book.sheet('B')).toThrowError(expect.objectContaining({ code: 'unknown-sheet' }))
    expect(() => a.getCell('C1')).toThrowError(expect.objectContaining({ code: 'out-of-range' }))
    expect(() => a.deleteRows(1, 5)).toThrowError(SheetError)
    expect(a.rowCount).toBe(2)
  })
})

describe('A1 addressing', () => {
  it('round-trips column names and rejects bad addresses', () => {
    fc.assert(fc.property(fc.nat(18_000), (n) => sheetColumnIndex(sheetColumnName(n)) === n))
    expect(parseSheetAddress('$AB$12')).toEqual({ row: 11, col: 27 })
    for (const bad of ['B0', '12', 'A', 'A1B', '']) {
      expect(() => parseSheetAddress(bad)).toThrowError(SheetError)
    }
  })
})

describe('formulas', () => {
  it('follow their cells when rows and columns are inserted or deleted', () => {
    const s = newSheet()
    s.setCell('A3', 5)
    s.setFormula('C1', '=A3*2')
    expect(s.getValue('C1')).toBe(10)
    s.insertRows(0, 2)
    s.insertColumns(0)
    expect(s.getCell('D3').input).toBe('=B5*2')
    expect(s.getValue('D3')).toBe(10)
    s.deleteRows(4)
    expect(s.getCell('D3').input).toBe('=#REF!*2')
    expect(s.getValue('D3')).toEqual({ error: '#REF!' })
  })

  it('recalculates dependents and grows ranges on insert', () => {
    const s = newSheet()
    s.setCell('A1', 1)
    s.setCell('A2', 2)
    s.setFormula('B1', '=SUM(A1:A2)')
    s.setFormula('B2', '=B1*10')
    expect(s.getValue('B2')).toBe(30)
    s.setCell('A1', 5)
    expect(s.getValue('B2')).toBe(70)
    s.insertRows(1)
    s.setCell('A2', 100)
    expect(s.getValue('B1')).toBe(107)
  })

  it('marks reference cycles #CIRC! whatever the evaluation order', () => {
    const s = newSheet()
    s.setFormula('A1', '=IFERROR(B1,0)')
    s.setFormula('B1', '=A1+1')
    s.setFormula('C1', '=A1')
    expect(s.getValue('B1')).toEqual({ error: '#CIRC!' })
    expect(s.getValue('A1')).toEqual({ error: '#CIRC!' })
    expect(s.getValue('C1')).toEqual({ error: '#CIRC!' })
    s.setCell('B1', 3)
    expect(s.getValue('C1')).toBe(3)
  })

  it('rejects bad formulas and out-of-sheet references without changing anything', () => {
    const s = newSheet(3, 3)
    s.setCell('A1', 1)
    for (const f of ['=1+', '=SUM(1', '=A1:', '="x', '=Z99']) {
      expect(() => s.setFormula('A1', f), f).toThrowError(SheetError)
    }
    expect(s.getCell('A1').input).toBe(1)
  })

  it('parses any well-formed arithmetic expression like JavaScript does', () => {
    // Each generated expression carries the value it must evaluate to.
    const expr: fc.Arbitrary<[string, number]> = fc.letrec((tie) => ({
      e: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.integer({ min: 0, max: 999 }).map((n): [string, number] => [String(n), n]),
        fc
          .tuple(
            tie('e') as fc.Arbitrary<[string, number]>,
            fc.constantFrom('+', '-', '*'),
            tie('e') as fc.Arbitrary<[string, number]>,
          )
          .map(([[a, x], op, [b, y]]): [string, number] => [
            `(${a}${op}${b})`,
            op === '+' ? x + y : op === '-' ? x - y : x * y,
          ]),
      ),
    })).e
    const s = newSheet(2, 2)
    fc.assert(
      fc.property(expr, ([e, want]) => {
        s.setFormula('A1', `=${e}`)
        // `+ 0` folds -0 into 0 on both sides.
        expect((s.getValue('A1') as number) + 0).toBe(want + 0)
        expect(parseFormula(e)).toEqual(parseFormula(`=${e}`))
      }),
      { numRuns: 200 },
    )
  })
})

describe('cells, styles, merges, sizes', () => {
  it('stores formats, styles, widths and merges by id', () => {
    const s = newSheet()
    s.setCell('B2', 0.256)
    s.setFormat('B2', '0.0%')
    s.setStyle('A1:B2', { bold: true })
    s.setStyle('B2', { color: '#c00', align: 'right' })
    expect(s.getCell('B2').text).toBe('25.6%')
    expect(s.getCell('B2').style).toEqual({ bold: true, color: '#c00', align: 'right' })
    s.setColumnWidth(1, 120)
    s.setRowHeight(1, 30)
    s.merge('A1:B2')
    expect(() => s.merge('B2:C3')).toThrowError(expect.objectContaining({ code: 'merge-overlap' }))
    s.insertColumns(0)
    expect(s.columnWidth(2)).toBe(120)
    expect(s.rowHeight(1)).toBe(30)
    expect(s.mergedRanges().map((m) => m.range)).toEqual(['B1:C2'])
    expect(s.getCell('C2').style?.bold).toBe(true)
    s.unmerge('C2')
    expect(s.mergedRanges()).toEqual([])
    expect(() => s.setColumnWidth(0, -1)).toThrowError(SheetError)
  })

  it('parses typed input', () => {
    const s = newSheet()
    s.setCellInput('A1', '42')
    s.setCellInput('A2', 'true')
    s.setCellInput('A3', 'hello')
    s.setCellInput('A4', '=A1+1')
    expect([1, 2, 3, 4].map((r) => s.getValue(`A${r}`))).toEqual([42, true, 'hello', 43])
  })
})

describe('events and undo', () => {
  it('describes remote changes in sheet terms, including dependents', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    a.on('update', (u: Uint8Array) => Y.applyUpdate(b, u))
    const sa = new SheetWorkbook(a).addSheet('S', { rows: 5, columns: 3 })
    const sb = new SheetWorkbook(b).sheet('S')
    sa.setFormula('B2', '=A1+1')
    sb.getValue('B2')
    const seen: SheetEvent[] = []
    sb.observe((e) => seen.push(e))
    sa.setCell('A1', 7)
    sa.insertRows(0, 2)
    const cells = seen.find((e) => e.type === 'cells')
    expect(cells?.type === 'cells' && cells.cells.map((c) => c.address).sort()).toEqual([
      'A1',
      'B2',
    ])
    expect(seen).toContainEqual({ type: 'rows-inserted', index: 0, count: 2, local: false })
    expect(sb.getValue('B4')).toBe(8)
  })

  it('undo reverts only this user edits', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    a.on('update', (u: Uint8Array) => Y.applyUpdate(b, u))
    b.on('update', (u: Uint8Array) => Y.applyUpdate(a, u))
    const wa = new SheetWorkbook(a)
    const sa = wa.addSheet('S', { rows: 3, columns: 3 })
    const sb = new SheetWorkbook(b).sheet('S')
    const undo = wa.createUndoManager({ captureTimeout: 0 })
    sa.setCell('A1', 1)
    sb.setCell('B1', 2)
    undo.undo()
    expect(sb.getValue('A1')).toBeNull()
    expect(sa.getValue('B1')).toBe(2)
  })
})

describe('CSV', () => {
  const table = fc
    .tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }))
    .chain(([w, h]) =>
      fc.array(
        fc.array(fc.oneof(fc.string(), fc.constantFrom('', ',', '"', '\r\n', 'a"b', '\n')), {
          minLength: w,
          maxLength: w,
        }),
        { minLength: h, maxLength: h },
      ),
    )

  it('parse(format(rows)) is the identity', () => {
    fc.assert(
      fc.property(table, (rows) => {
        expect(parseCsv(formatCsv(rows))).toEqual(rows)
      }),
    )
  })

  it('CSV → sheet → CSV round-trips (text mode)', () => {
    fc.assert(
      fc.property(table, (rows) => {
        const s = newSheet(1, 1)
        const csv = formatCsv(rows)
        importSheetCsv(s, csv, { mode: 'text' })
        expect(exportSheetCsv(s)).toBe(csv)
      }),
      { numRuns: 100 },
    )
  })

  it('imports typed values and formulas, exports values', () => {
    const s = newSheet(1, 1)
    importSheetCsv(s, 'a,1\nb,2\ntotal,=SUM(B1:B2)\n')
    expect(s.getValue('B3')).toBe(3)
    expect(exportSheetCsv(s, { mode: 'value' })).toBe('a,1\r\nb,2\r\ntotal,3\r\n')
    expect(exportSheetCsv(s)).toContain('=SUM(B1:B2)')
    expect(() => importSheetCsv(s, '"open')).toThrowError(
      expect.objectContaining({ code: 'bad-csv' }),
    )
    expect(s.rowCount).toBe(3)
  })
})
