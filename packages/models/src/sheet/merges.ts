import type { SheetRange } from './address.js'

/** Whether two ranges share at least one cell. */
export function overlaps(a: SheetRange, b: SheetRange): boolean {
  return (
    a.start.row <= b.end.row &&
    b.start.row <= a.end.row &&
    a.start.col <= b.end.col &&
    b.start.col <= a.end.col
  )
}
