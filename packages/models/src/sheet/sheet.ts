import * as Y from 'yjs'
import {
  formatSheetAddress,
  parseSheetAddress,
  parseSheetRange,
  type SheetPosition,
  type SheetRange,
} from './address.js'
import { SheetEngine } from './engine.js'
import { SheetError } from './errors.js'
import { formatSheetValue } from './format.js'
import type { EvalScalar } from './formula-eval.js'
import { parseFormula, rewriteFormulaRefs } from './formula-parser.js'
import { newSheetId, sheetCellKey } from './ids.js'
import { overlaps } from './merges.js'
import type {
  SheetCell,
  SheetEvent,
  SheetMerge,
  SheetStoredCell,
  SheetStyle,
  SheetValue,
} from './types.js'

interface StoredMerge {
  readonly r1: string
  readonly c1: string
  readonly r2: string
  readonly c2: string
}

/** A literal a cell can hold. */
export type SheetLiteral = number | string | boolean

function toValue(v: EvalScalar): SheetValue {
  return v instanceof Error ? { error: v.message } : v
}

/**
 * One sheet of a {@link SheetWorkbook}. Rows and columns are ordered arrays of stable ids and a
 * cell is stored under `rowId:colId`, so a concurrent insert or delete of rows never re-targets
 * another user's cell edit: the edit stays with its row and column wherever they move. Formulas
 * are stored with id references too (`=SUM({row:col}:{row:col})`) and shown as A1.
 *
 * @example
 * ```ts
 * const sheet = new SheetWorkbook(doc).addSheet('Budget', { rows: 10, columns: 4 })
 * sheet.setCell('A1', 2)
 * sheet.setFormula('B1', '=A1*21')
 * sheet.getCell('B1').value // 42
 * ```
 */
export class Sheet {
  /** Stable id of this sheet. */
  readonly id: string
  private readonly rows: Y.Array<string>
  private readonly cols: Y.Array<string>
  private readonly cells: Y.Map<SheetStoredCell>
  private readonly formats: Y.Map<string>
  private readonly styles: Y.Map<SheetStyle>
  private readonly merges: Y.Map<StoredMerge>
  private readonly widths: Y.Map<number>
  private readonly heights: Y.Map<number>
  private readonly engine: SheetEngine
  private readonly listeners = new Set<(e: SheetEvent) => void>()

  /** @internal Use {@link SheetWorkbook.addSheet} / {@link SheetWorkbook.sheet}. */
  constructor(
    id: string,
    private readonly map: Y.Map<unknown>,
    private readonly origin: unknown,
  ) {
    this.id = id
    this.rows = map.get('rows') as Y.Array<string>
    this.cols = map.get('cols') as Y.Array<string>
    this.cells = map.get('cells') as Y.Map<SheetStoredCell>
    this.formats = map.get('formats') as Y.Map<string>
    this.styles = map.get('styles') as Y.Map<SheetStyle>
    this.merges = map.get('merges') as Y.Map<StoredMerge>
    this.widths = map.get('widths') as Y.Map<number>
    this.heights = map.get('heights') as Y.Map<number>
    this.engine = new SheetEngine(this.rows, this.cols, this.cells)
    map.observeDeep(this.handler)
  }

  private readonly handler = (events: Y.YEvent<Y.AbstractType<unknown>>[], tr: Y.Transaction) =>
    this.onChange(events, tr)

  /** Stop observing the document (listeners are dropped; the data is untouched). */
  destroy(): void {
    this.map.unobserveDeep(this.handler)
    this.listeners.clear()
  }

  /** @internal Build the Yjs structure of a new sheet. */
  static create(name: string, rows: number, columns: number): Y.Map<unknown> {
    const m = new Y.Map<unknown>()
    m.set('name', name)
    const r = new Y.Array<string>()
    r.push(Array.from({ length: rows }, newSheetId))
    const c = new Y.Array<string>()
    c.push(Array.from({ length: columns }, newSheetId))
    m.set('rows', r)
    m.set('cols', c)
    for (const k of ['cells', 'formats', 'styles', 'merges', 'widths', 'heights']) {
      m.set(k, new Y.Map())
    }
    return m
  }

  /** Display name. */
  get name(): string {
    return this.map.get('name') as string
  }

  /** Rename the sheet (last writer wins on concurrent renames). */
  rename(name: string): void {
    if (name.trim() === '') throw new SheetError('bad-argument', 'sheet name is empty')
    this.tx(() => this.map.set('name', name))
  }

  /** Number of rows. */
  get rowCount(): number {
    return this.rows.length
  }

  /** Number of columns. */
  get columnCount(): number {
    return this.cols.length
  }

  /** Row ids in display order. */
  rowIds(): readonly string[] {
    return this.engine.rowIds()
  }

  /** Column ids in display order. */
  columnIds(): readonly string[] {
    return this.engine.colIds()
  }

  private tx(fn: () => void): void {
    const doc = this.map.doc
    if (doc) doc.transact(fn, this.origin)
    else fn()
  }

  /** Run several edits as one transaction (one update, one undo step). */
  transact(fn: () => void): void {
    this.tx(fn)
  }

  /** A1 address of a zero-based position. */
  address(row: number, col: number): string {
    return formatSheetAddress({ row, col })
  }

  private pos(a1: string): { row: number; col: number; key: string } {
    const p = parseSheetAddress(a1)
    return { ...p, key: this.keyAt(p) }
  }

  private keyAt(p: SheetPosition): string {
    const r = this.engine.rowIds()[p.row]
    const c = this.engine.colIds()[p.col]
    if (r === undefined || c === undefined) {
      throw new SheetError('out-of-range', `${formatSheetAddress(p)} is outside the sheet`)
    }
    return sheetCellKey(r, c)
  }

  private range(text: string): SheetRange {
    const r = parseSheetRange(text)
    this.keyAt(r.end)
    return r
  }

  private addressOfKey(key: string): string | null {
    const [rid, cid] = key.split(':')
    const r = this.engine.rowOf(rid ?? '')
    const c = this.engine.colOf(cid ?? '')
    return r === undefined || c === undefined ? null : formatSheetAddress({ row: r, col: c })
  }

  /** Read a cell: input as typed, evaluated value, formatted text, format and style. */
  getCell(a1: string): SheetCell {
    const { row, col, key } = this.pos(a1)
    const stored = this.cells.get(key)
    const isFormula = typeof stored === 'object'
    const input = stored === undefined ? null : isFormula ? this.showFormula(stored.f) : stored
    const value = toValue(this.engine.value(key))
    const format = this.formats.get(key) ?? null
    const [rowId, colId] = key.split(':') as [string, string]
    return {
      address: formatSheetAddress({ row, col }),
      rowId,
      colId,
      input,
      isFormula,
      value,
      text: formatSheetValue(value, format),
      format,
      style: this.styles.get(key) ?? null,
    }
  }

  /** Evaluated value of a cell. */
  getValue(a1: string): SheetValue {
    return toValue(this.engine.value(this.pos(a1).key))
  }

  /** Store a literal (or clear the cell with `null`). Strings are stored verbatim. */
  setCell(a1: string, value: SheetLiteral | null): void {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new SheetError('bad-argument', 'cell numbers must be finite')
    }
    const { key } = this.pos(a1)
    this.tx(() => {
      if (value === null) this.cells.delete(key)
      else this.cells.set(key, value)
    })
  }

  /**
   * Store a formula typed with A1 references (`=SUM(A1:A3)`). References are converted to stable
   * row/column ids, so the formula follows its cells when rows or columns move.
   */
  setFormula(a1: string, formula: string): void {
    const { key } = this.pos(a1)
    parseFormula(formula)
    const stored = rewriteFormulaRefs(formula, (ref) => {
      if (ref.kind === 'ids') throw new SheetError('bad-formula', 'id references are internal')
      return `{${this.keyAt(ref)}}`
    })
    this.tx(() => this.cells.set(key, { f: stored }))
  }

  /** Set a cell from what a user typed: `=…` is a formula, numbers and TRUE/FALSE are parsed. */
  setCellInput(a1: string, text: string): void {
    const t = text.trim()
    if (text.startsWith('=') && text.length > 1) this.setFormula(a1, text)
    else if (t === '') this.setCell(a1, null)
    else if (/^(true|false)$/i.test(t)) this.setCell(a1, t.toUpperCase() === 'TRUE')
    else {
      const n = Number(t)
      this.setCell(a1, Number.isFinite(n) ? n : text)
    }
  }

  private showFormula(f: string): string {
    try {
      return rewriteFormulaRefs(f, (ref) =>
        ref.kind === 'a1'
          ? formatSheetAddress(ref)
          : (this.addressOfKey(sheetCellKey(ref.rowId, ref.colId)) ?? '#REF!'),
      )
    } catch {
      return f
    }
  }

  /** Set (or clear with `null`) the number format of every cell in a range (`A1:B3`). */
  setFormat(range: string, format: string | null): void {
    const keys = this.keysIn(this.range(range))
    this.tx(() => {
      for (const k of keys) {
        if (format === null) this.formats.delete(k)
        else this.formats.set(k, format)
      }
    })
  }

  /** Merge `style` into the style of every cell in a range; `null` clears the style. */
  setStyle(range: string, style: SheetStyle | null): void {
    const keys = this.keysIn(this.range(range))
    this.tx(() => {
      for (const k of keys) {
        if (style === null) this.styles.delete(k)
        else this.styles.set(k, { ...this.styles.get(k), ...style })
      }
    })
  }

  private keysIn(r: SheetRange): string[] {
    const out: string[] = []
    for (let row = r.start.row; row <= r.end.row; row++) {
      for (let col = r.start.col; col <= r.end.col; col++) out.push(this.keyAt({ row, col }))
    }
    return out
  }

  /** Insert `count` empty rows before zero-based `index`; returns their new ids. */
  insertRows(index: number, count = 1): string[] {
    return this.insertIds(this.rows, index, count)
  }

  /** Insert `count` empty columns before zero-based `index`; returns their new ids. */
  insertColumns(index: number, count = 1): string[] {
    return this.insertIds(this.cols, index, count)
  }

  /** Delete `count` rows starting at zero-based `index`, with their cells. */
  deleteRows(index: number, count = 1): void {
    this.deleteIds(this.rows, index, count, true)
  }

  /** Delete `count` columns starting at zero-based `index`, with their cells. */
  deleteColumns(index: number, count = 1): void {
    this.deleteIds(this.cols, index, count, false)
  }

  private insertIds(arr: Y.Array<string>, index: number, count: number): string[] {
    if (!Number.isInteger(index) || index < 0 || index > arr.length) {
      throw new SheetError('out-of-range', `insert index ${index} outside 0..${arr.length}`)
    }
    if (!Number.isInteger(count) || count < 1) throw new SheetError('bad-argument', 'bad count')
    const ids = Array.from({ length: count }, newSheetId)
    this.tx(() => {
      arr.insert(index, ids)
      // Inside a larger transaction the observer has not run yet; positions changed now.
      this.engine.reset()
    })
    return ids
  }

  private deleteIds(arr: Y.Array<string>, index: number, count: number, isRow: boolean): void {
    if (!Number.isInteger(count) || count < 1) throw new SheetError('bad-argument', 'bad count')
    if (!Number.isInteger(index) || index < 0 || index + count > arr.length) {
      throw new SheetError('out-of-range', `delete ${index}+${count} outside 0..${arr.length}`)
    }
    const gone = new Set(arr.slice(index, index + count))
    this.tx(() => {
      arr.delete(index, count)
      this.engine.reset()
      // Remove the deleted rows' cells so the document does not keep them forever. A cell edited
      // concurrently under a deleted id survives as an unreachable entry; it is never shown.
      for (const m of [this.cells, this.formats, this.styles] as Y.Map<unknown>[]) {
        for (const k of [...m.keys()]) {
          const id = isRow ? k.slice(0, k.indexOf(':')) : k.slice(k.indexOf(':') + 1)
          if (gone.has(id)) m.delete(k)
        }
      }
      for (const id of gone) (isRow ? this.heights : this.widths).delete(id)
    })
  }

  /** Width of a column in pixels, or null for the default. */
  columnWidth(col: number): number | null {
    return this.widths.get(this.keyAt({ row: 0, col }).split(':')[1] ?? '') ?? null
  }

  /** Set a column's width in pixels. */
  setColumnWidth(col: number, px: number): void {
    if (!(px > 0) || !Number.isFinite(px)) throw new SheetError('bad-argument', 'width must be > 0')
    const id = this.engine.colIds()[col]
    if (id === undefined) throw new SheetError('out-of-range', `no column ${col}`)
    this.tx(() => this.widths.set(id, px))
  }

  /** Height of a row in pixels, or null for the default. */
  rowHeight(row: number): number | null {
    const id = this.engine.rowIds()[row]
    return id === undefined ? null : (this.heights.get(id) ?? null)
  }

  /** Set a row's height in pixels. */
  setRowHeight(row: number, px: number): void {
    if (!(px > 0) || !Number.isFinite(px))
      throw new SheetError('bad-argument', 'height must be > 0')
    const id = this.engine.rowIds()[row]
    if (id === undefined) throw new SheetError('out-of-range', `no row ${row}`)
    this.tx(() => this.heights.set(id, px))
  }

  /**
   * Merge a range. Merges are stored by their corner row/column ids; a merge whose corner row or
   * column is deleted disappears. Throws `merge-overlap` if it overlaps a visible merge.
   */
  merge(range: string): string {
    const r = this.range(range)
    if (r.start.row === r.end.row && r.start.col === r.end.col) {
      throw new SheetError('bad-range', 'a merge needs at least two cells')
    }
    if (this.resolveMerges().some((m) => overlaps(m.rect, r))) {
      throw new SheetError('merge-overlap', `${range} overlaps a merged range`)
    }
    const [r1, c1] = this.keyAt(r.start).split(':') as [string, string]
    const [r2, c2] = this.keyAt(r.end).split(':') as [string, string]
    const id = newSheetId()
    this.tx(() => this.merges.set(id, { r1, c1, r2, c2 }))
    return id
  }

  /** Remove every merge that overlaps `range`. */
  unmerge(range: string): void {
    const r = this.range(range)
    const ids = this.resolveMerges()
      .filter((m) => overlaps(m.rect, r))
      .map((m) => m.id)
    this.tx(() => {
      for (const id of ids) this.merges.delete(id)
    })
  }

  /**
   * Visible merged ranges. Concurrent merges can overlap; then the one with the smaller id wins
   * on every replica and the other is hidden (it stays in the document until unmerged).
   */
  mergedRanges(): SheetMerge[] {
    return this.resolveMerges().map((m) => ({
      id: m.id,
      range: `${formatSheetAddress(m.rect.start)}:${formatSheetAddress(m.rect.end)}`,
    }))
  }

  private resolveMerges(): { id: string; rect: SheetRange }[] {
    const out: { id: string; rect: SheetRange }[] = []
    for (const [id, m] of [...this.merges.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const rs = [this.engine.rowOf(m.r1), this.engine.rowOf(m.r2)]
      const cs = [this.engine.colOf(m.c1), this.engine.colOf(m.c2)]
      if (rs.includes(undefined) || cs.includes(undefined)) continue
      const [a, b] = rs as [number, number]
      const [c, d] = cs as [number, number]
      const rect = {
        start: { row: Math.min(a, b), col: Math.min(c, d) },
        end: { row: Math.max(a, b), col: Math.max(c, d) },
      }
      if (out.some((o) => overlaps(o.rect, rect))) continue
      out.push({ id, rect })
    }
    return out
  }

  /** Evaluate every formula now (values are otherwise computed lazily on read). */
  recalculate(): number {
    let n = 0
    for (const [k, v] of this.cells.entries()) {
      if (typeof v === 'object') {
        this.engine.value(k)
        n++
      }
    }
    return n
  }

  /**
   * Listen to changes in spreadsheet terms (cells, rows, columns, layout), local or remote.
   * Returns a function that stops listening.
   */
  observe(listener: (e: SheetEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private onChange(events: Y.YEvent<Y.AbstractType<unknown>>[], tr: Y.Transaction): void {
    const local = tr.local
    const emitted: SheetEvent[] = []
    const changed = new Set<string>()
    let structural = false
    for (const ev of events) {
      const t = ev.target
      if (t === this.rows || t === this.cols) {
        structural = true
        const isRow = t === this.rows
        let index = 0
        for (const d of ev.changes.delta) {
          if (d.retain) index += d.retain
          else if (d.insert) {
            const count = (d.insert as unknown[]).length
            emitted.push({
              type: isRow ? 'rows-inserted' : 'columns-inserted',
              index,
              count,
              local,
            })
            index += count
          } else if (d.delete) {
            emitted.push({
              type: isRow ? 'rows-deleted' : 'columns-deleted',
              index,
              count: d.delete,
              local,
            })
          }
        }
      } else if (t === this.cells || t === this.formats || t === this.styles) {
        for (const k of (ev as Y.YMapEvent<unknown>).keysChanged) changed.add(k)
      } else if (t === this.merges || t === this.widths || t === this.heights) {
        emitted.push({ type: 'layout', local })
      }
    }
    if (structural) this.engine.reset()
    const affected = structural ? changed : this.engine.invalidate(changed)
    if (affected.size > 0) {
      const cells: { address: string; rowId: string; colId: string }[] = []
      for (const k of affected) {
        const address = this.addressOfKey(k)
        const [rowId, colId] = k.split(':') as [string, string]
        if (address !== null) cells.push({ address, rowId, colId })
      }
      if (cells.length > 0) emitted.push({ type: 'cells', cells, local })
    }
    if (this.listeners.size === 0) return
    for (const e of emitted) for (const l of this.listeners) l(e)
  }
}
