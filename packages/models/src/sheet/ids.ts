const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz'

/**
 * A random id of 10 base-36 characters (~51 bits): short, because every cell key carries two of
 * them, yet collision-free in practice for the rows and columns of one sheet.
 */
export function newSheetId(): string {
  const bytes = new Uint8Array(10)
  globalThis.crypto.getRandomValues(bytes)
  let out = ''
  for (const b of bytes) out += ALPHABET[b % 36]
  return out
}

/** Document key of the cell at a row id and column id. */
export function sheetCellKey(rowId: string, colId: string): string {
  return `${rowId}:${colId}`
}
