import { SheetError } from './errors.js'

/** A zero-based cell position: `B3` is `{ row: 2, col: 1 }`. */
export interface SheetPosition {
  readonly row: number
  readonly col: number
}

/** A zero-based, inclusive rectangle of cells. */
export interface SheetRange {
  readonly start: SheetPosition
  readonly end: SheetPosition
}

const A1 = /^\$?([A-Za-z]{1,3})\$?([1-9][0-9]{0,6})$/

/**
 * Column letters for a zero-based column index (`0` → `A`, `26` → `AA`).
 *
 * @example
 * ```ts
 * sheetColumnName(27) // 'AB'
 * ```
 */
export function sheetColumnName(col: number): string {
  if (!Number.isInteger(col) || col < 0) throw new SheetError('bad-address', `bad column ${col}`)
  let n = col + 1
  let out = ''
  while (n > 0) {
    const rem = (n - 1) % 26
    out = String.fromCharCode(65 + rem) + out
    n = Math.floor((n - 1) / 26)
  }
  return out
}

/** Zero-based column index of column letters (`A` → 0, `AA` → 26). */
export function sheetColumnIndex(letters: string): number {
  if (!/^[A-Za-z]{1,3}$/.test(letters)) throw new SheetError('bad-address', `bad column ${letters}`)
  let n = 0
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64)
  return n - 1
}

/**
 * Parse an A1 address (`B3`, `$B$3`) into a zero-based position.
 *
 * @example
 * ```ts
 * parseSheetAddress('B3') // { row: 2, col: 1 }
 * ```
 */
export function parseSheetAddress(a1: string): SheetPosition {
  const m = A1.exec(a1.trim())
  if (!m?.[1] || !m[2]) throw new SheetError('bad-address', `not an A1 address: ${a1}`)
  return { row: Number(m[2]) - 1, col: sheetColumnIndex(m[1]) }
}

/** Format a zero-based position as an A1 address. */
export function formatSheetAddress(pos: SheetPosition): string {
  if (!Number.isInteger(pos.row) || pos.row < 0) {
    throw new SheetError('bad-address', `bad row ${pos.row}`)
  }
  return `${sheetColumnName(pos.col)}${pos.row + 1}`
}

/**
 * Parse `A1:C3` (or a single address) into a normalized range (start is top-left).
 *
 * @example
 * ```ts
 * parseSheetRange('C3:A1') // { start: { row: 0, col: 0 }, end: { row: 2, col: 2 } }
 * ```
 */
export function parseSheetRange(text: string): SheetRange {
  const parts = text.split(':')
  if (parts.length > 2 || parts.length === 0) throw new SheetError('bad-range', `bad range ${text}`)
  const a = parseSheetAddress(parts[0] ?? '')
  const b = parts[1] === undefined ? a : parseSheetAddress(parts[1])
  return {
    start: { row: Math.min(a.row, b.row), col: Math.min(a.col, b.col) },
    end: { row: Math.max(a.row, b.row), col: Math.max(a.col, b.col) },
  }
}
