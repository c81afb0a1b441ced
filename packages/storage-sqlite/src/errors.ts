import { StorageError } from '@valv/storage'

/** SQLite's extended error code (`SQLITE_FULL`, …) of a better-sqlite3 error, if any. */
const codeOf = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : ''

/**
 * Translate SQLite and filesystem errors into a `StorageError` with a stable code;
 * `StorageError`s and foreign errors (a failing blob source) pass through unchanged.
 */
export function toStorageError(error: unknown, what: string): unknown {
  if (error instanceof StorageError) return error
  const code = codeOf(error)
  const cause = { cause: error }
  if (code.startsWith('SQLITE_FULL') || code === 'ENOSPC') {
    return new StorageError('full', `${what}: the disk or database is full`, cause)
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY')) {
    return new StorageError('missing-backend', `${what}: the database file is not usable`, cause)
  }
  if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB')) {
    return new StorageError('corrupt', `${what}: the database file is corrupt`, cause)
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StorageError('unavailable', `${what}: the database is busy`, cause)
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return new StorageError('unavailable', `${what}: I/O error`, cause)
  }
  return error
}
