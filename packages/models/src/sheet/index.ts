export {
  formatSheetAddress,
  parseSheetAddress,
  parseSheetRange,
  type SheetPosition,
  type SheetRange,
  sheetColumnIndex,
  sheetColumnName,
} from './address.js'
export {
  exportSheetCsv,
  formatCsv as formatSheetCsv,
  importSheetCsv,
  parseCsv as parseSheetCsv,
  type SheetCsvExportOptions,
  type SheetCsvImportOptions,
} from './csv.js'
export { SheetError, type SheetErrorCode } from './errors.js'
export { formatSheetValue } from './format.js'
export { Sheet, type SheetLiteral } from './sheet.js'
export type {
  SheetAlign,
  SheetCell,
  SheetErrorValue,
  SheetEvent,
  SheetMerge,
  SheetStoredCell,
  SheetStyle,
  SheetValue,
} from './types.js'
export {
  type SheetSizeOptions,
  SheetWorkbook,
  type SheetWorkbookOptions,
} from './workbook.js'
