import * as Y from 'yjs'
import { SheetError } from './errors.js'
import { newSheetId } from './ids.js'
import { Sheet } from './sheet.js'

/** Options of {@link SheetWorkbook}. */
export interface SheetWorkbookOptions {
  /** Name prefix of the workbook's root types in the `Y.Doc` (default `valv.sheet`). */
  readonly prefix?: string
  /**
   * Transaction origin of this user's edits. {@link SheetWorkbook.createUndoManager} tracks only
   * this origin, so undo never reverts other users' edits. Defaults to the workbook itself.
   */
  readonly origin?: unknown
}

/** Size of a new sheet. */
export interface SheetSizeOptions {
  readonly rows?: number
  readonly columns?: number
}

/**
 * A workbook: an ordered list of sheets in a `Y.Doc`. Sheets live in a root `Y.Map` keyed by
 * sheet id (so two users adding sheets at once both keep theirs) and their order in a root
 * `Y.Array` of ids.
 *
 * @example
 * ```ts
 * const book = new SheetWorkbook(new Y.Doc())
 * const s = book.addSheet('Sheet1')
 * s.setCellInput('A1', '=1+2')
 * ```
 */
export class SheetWorkbook {
  /** The document holding the workbook. */
  readonly doc: Y.Doc
  /** Origin stamped on this replica's transactions. */
  readonly origin: unknown
  private readonly sheets: Y.Map<Y.Map<unknown>>
  private readonly order: Y.Array<string>
  private readonly open = new Map<string, Sheet>()

  constructor(doc: Y.Doc, options: SheetWorkbookOptions = {}) {
    const prefix = options.prefix ?? 'valv.sheet'
    this.doc = doc
    this.origin = options.origin ?? this
    this.sheets = doc.getMap(`${prefix}.sheets`)
    this.order = doc.getArray(`${prefix}.order`)
  }

  /** Add a sheet at the end (default 100 rows × 26 columns). */
  addSheet(name: string, size: SheetSizeOptions = {}): Sheet {
    const rows = size.rows ?? 100
    const columns = size.columns ?? 26
    if (name.trim() === '') throw new SheetError('bad-argument', 'sheet name is empty')
    if (this.sheetNames().includes(name)) {
      throw new SheetError('duplicate-sheet', `a sheet named ${name} exists`)
    }
    for (const n of [rows, columns]) {
      if (!Number.isInteger(n) || n < 0 || n > 1_000_000) {
        throw new SheetError('bad-argument', `bad sheet size ${n}`)
      }
    }
    const id = newSheetId()
    this.doc.transact(() => {
      this.sheets.set(id, Sheet.create(name, rows, columns))
      this.order.push([id])
    }, this.origin)
    return this.sheetById(id)
  }

  /** Sheet ids in tab order (each at most once, even after concurrent edits). */
  sheetIds(): string[] {
    const seen = new Set<string>()
    return this.order.toArray().filter((id) => {
      if (seen.has(id) || !this.sheets.has(id)) return false
      seen.add(id)
      return true
    })
  }

  /** Sheet names in tab order. */
  sheetNames(): string[] {
    return this.sheetIds().map((id) => this.sheetById(id).name)
  }

  /** A sheet by name. Concurrent adds may create two sheets with one name; the first wins. */
  sheet(name: string): Sheet {
    const id = this.sheetIds().find((i) => this.sheetById(i).name === name)
    if (id === undefined) throw new SheetError('unknown-sheet', `no sheet named ${name}`)
    return this.sheetById(id)
  }

  /** A sheet by id. */
  sheetById(id: string): Sheet {
    let s = this.open.get(id)
    if (!s) {
      const map = this.sheets.get(id)
      if (!map) throw new SheetError('unknown-sheet', `no sheet ${id}`)
      s = new Sheet(id, map, this.origin)
      this.open.set(id, s)
    }
    return s
  }

  /** Remove a sheet and its content. */
  removeSheet(name: string): void {
    const id = this.sheet(name).id
    this.doc.transact(() => {
      this.sheets.delete(id)
      const arr = this.order.toArray()
      for (let i = arr.length - 1; i >= 0; i--) if (arr[i] === id) this.order.delete(i, 1)
    }, this.origin)
    this.open.get(id)?.destroy()
    this.open.delete(id)
  }

  /**
   * An undo manager over the whole workbook that tracks only this replica's edits (its
   * `origin`), so undo never reverts what other users did.
   */
  createUndoManager(options: { captureTimeout?: number } = {}): Y.UndoManager {
    return new Y.UndoManager([this.sheets, this.order], {
      trackedOrigins: new Set([this.origin]),
      captureTimeout: options.captureTimeout ?? 500,
    })
  }
}
