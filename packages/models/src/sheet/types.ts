/** What a cell stores in the document: a literal or a formula (references kept as stable ids). */
export type SheetStoredCell = number | string | boolean | { readonly f: string }

/** An Excel error value such as `#DIV/0!`, `#REF!` or `#CIRC!` (a reference cycle). */
export interface SheetErrorValue {
  readonly error: string
}

/** An evaluated cell value. Dates come from date functions (DATE, EDATE…). */
export type SheetValue = number | string | boolean | Date | SheetErrorValue | null

/** Horizontal alignment of a cell. */
export type SheetAlign = 'left' | 'center' | 'right'

/** Basic cell style. Colors are CSS color strings. */
export interface SheetStyle {
  readonly bold?: boolean
  readonly italic?: boolean
  readonly underline?: boolean
  readonly color?: string
  readonly background?: string
  readonly align?: SheetAlign
}

/** A cell as read through the A1 API. */
export interface SheetCell {
  /** A1 address, e.g. `B3`. */
  readonly address: string
  readonly rowId: string
  readonly colId: string
  /** What the user typed: a literal, or a formula shown with A1 references (`=SUM(A1:A3)`). */
  readonly input: number | string | boolean | null
  /** Whether `input` is a formula. */
  readonly isFormula: boolean
  /** Evaluated value (cached locally, never stored in the document). */
  readonly value: SheetValue
  /** `value` formatted with the number format, for display. */
  readonly text: string
  /** Number format, e.g. `0.00`, `#,##0`, `0%`, `yyyy-mm-dd`. */
  readonly format: string | null
  readonly style: SheetStyle | null
}

/** A merged range, resolved to current positions. */
export interface SheetMerge {
  readonly id: string
  /** Current A1 range, e.g. `A1:C2`. */
  readonly range: string
}

/**
 * A change described in spreadsheet terms, for a UI to re-render what moved. After a row or
 * column event, positions (and the ranges formulas cover) have shifted: re-read visible cells.
 */
export type SheetEvent =
  | {
      readonly type: 'cells'
      /** Cells whose input, format, style or evaluated value may have changed. */
      readonly cells: readonly {
        readonly address: string
        readonly rowId: string
        readonly colId: string
      }[]
      /** Whether the change came from this replica's own transaction. */
      readonly local: boolean
    }
  | {
      readonly type: 'rows-inserted' | 'rows-deleted' | 'columns-inserted' | 'columns-deleted'
      /** Zero-based index of the first row/column, in the state after the change. */
      readonly index: number
      readonly count: number
      readonly local: boolean
    }
  | { readonly type: 'layout'; readonly local: boolean }
