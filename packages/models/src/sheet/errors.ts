/** Stable codes of {@link SheetError}. */
export type SheetErrorCode =
  | 'bad-address'
  | 'bad-range'
  | 'bad-formula'
  | 'bad-argument'
  | 'out-of-range'
  | 'merge-overlap'
  | 'unknown-sheet'
  | 'duplicate-sheet'
  | 'bad-csv'

/**
 * Thrown by the spreadsheet model on bad input. The model is left unchanged when it is thrown.
 *
 * @example
 * ```ts
 * try { sheet.getCell('B0') } catch (e) { if (e instanceof SheetError) console.log(e.code) }
 * ```
 */
export class SheetError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: SheetErrorCode
  constructor(code: SheetErrorCode, message: string) {
    super(message)
    this.name = 'SheetError'
    this.code = code
  }
}
