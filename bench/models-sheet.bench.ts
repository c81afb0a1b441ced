/**
 * Spreadsheet model (`@valv/models` sheet): a 10,000 × 20 sheet (`--quick`: 1,000 × 20) where
 * columns A–S hold numbers and column T sums its row (`=SUM(A1:S1)`), plus a grand total
 * `=SUM(T1:T10000)` below. Measures build time (one transaction), full recalculation from a cold
 * cache, the recalculation after editing one input cell, the encoded document size and the heap
 * held by the document.
 *
 * Baseline: the same inputs (numbers and A1 formula text) in a bare `Y.Map` keyed `A1`, `B1`…
 * That map has no stable row/column ids, so a concurrent row insert would re-target edits; the
 * difference is the price of the ids. Recalculation has no Yjs baseline (bare Yjs has no
 * formulas), so those rows have `baseline: null`.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import * as Y from 'yjs'
import {
  formatSheetAddress,
  type Sheet,
  SheetWorkbook,
} from '../packages/models/src/sheet/index.js'
import { type Benchmark, type BenchRow, medianMs } from './harness.js'

const COLS = 20

function buildSheet(rows: number): { doc: Y.Doc; sheet: Sheet } {
  const doc = new Y.Doc()
  const sheet = new SheetWorkbook(doc).addSheet('Data', { rows: rows + 1, columns: COLS })
  sheet.transact(() => {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < COLS - 1; c++)
        sheet.setCell(formatSheetAddress({ row: r, col: c }), r + c)
      sheet.setFormula(`T${r + 1}`, `=SUM(A${r + 1}:S${r + 1})`)
    }
    sheet.setFormula(`T${rows + 1}`, `=SUM(T1:T${rows})`)
  })
  return { doc, sheet }
}

function buildBare(rows: number): Y.Doc {
  const doc = new Y.Doc()
  const map = doc.getMap<number | string>('cells')
  doc.transact(() => {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < COLS - 1; c++) map.set(formatSheetAddress({ row: r, col: c }), r + c)
      map.set(`T${r + 1}`, `=SUM(A${r + 1}:S${r + 1})`)
    }
    map.set(`T${rows + 1}`, `=SUM(T1:T${rows})`)
  })
  return doc
}

// A real collection makes the heap figure meaningful; `tsx` does not pass --expose-gc through.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

function heapAfter(fn: () => unknown): number {
  gc()
  const before = process.memoryUsage().heapUsed
  const keep = fn()
  gc()
  const used = process.memoryUsage().heapUsed - before
  void keep
  return used / 1024 / 1024
}

const bench: Benchmark = async ({ quick }) => {
  const rows = quick ? 1_000 : 10_000
  const runs = quick ? 3 : 1
  const label = `${rows}×${COLS}`
  const out: BenchRow[] = []

  out.push({
    name: `build ${label} (one transaction)`,
    value: await medianMs(() => buildSheet(rows), runs),
    unit: 'ms',
    baseline: await medianMs(() => buildBare(rows), runs),
  })

  const { doc, sheet } = buildSheet(rows)
  const total = `T${rows + 1}`
  const cold = await medianMs(() => {
    // A fresh Sheet object has an empty cache: this is the cost of opening a loaded workbook.
    const fresh = new SheetWorkbook(doc).sheetById(sheet.id)
    fresh.recalculate()
  }, runs)
  out.push({
    name: `full recalculation ${rows + 1} formulas`,
    value: cold,
    unit: 'ms',
    baseline: null,
  })

  sheet.recalculate()
  let v = 0
  const edit = await medianMs(() => {
    sheet.setCell('A1', ++v)
    sheet.getValue(total)
  }, 5)
  out.push({ name: 'edit one input + recalc dependents', value: edit, unit: 'ms', baseline: null })
  if (sheet.getValue('T1') !== v + ((COLS - 2) * (COLS - 1)) / 2)
    throw new Error('bad recalculation')

  out.push({
    name: `encoded size ${label}`,
    value: Y.encodeStateAsUpdate(doc).length / 1024,
    unit: 'KiB',
    baseline: Y.encodeStateAsUpdate(buildBare(rows)).length / 1024,
  })
  out.push({
    name: `heap held ${label}`,
    value: heapAfter(() => buildSheet(rows)),
    unit: 'MiB',
    baseline: heapAfter(() => buildBare(rows)),
  })
  return out
}

export default bench
