import * as formulajs from '@formulajs/formulajs'
import type { SheetValue } from './types.js'

/**
 * Format a value for display, applying an Excel number format through formulajs `TEXT`.
 *
 * @example
 * ```ts
 * formatSheetValue(0.25, '0%') // '25%'
 * ```
 */
export function formatSheetValue(value: SheetValue, format: string | null): string {
  if (value === null) return ''
  if (typeof value === 'object' && !(value instanceof Date)) return value.error
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE'
  if (format && (typeof value === 'number' || value instanceof Date)) {
    const out = formulajs.TEXT(value, format) as unknown
    if (typeof out === 'string') return out
  }
  if (value instanceof Date) return value.toISOString().slice(0, 10)
  return String(value)
}
