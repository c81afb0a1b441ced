import { StorageError } from '@valv/storage'

/** Translate an IndexedDB `DOMException` into a {@link StorageError}; others pass unchanged. */
export function toStorageError(error: unknown, what: string): unknown {
  if (error instanceof StorageError) return error
  const name = (error as { name?: unknown } | null)?.name
  if (name === 'QuotaExceededError') {
    return new StorageError('full', `${what}: the browser's storage quota is exhausted`, {
      cause: error,
    })
  }
  if (name === 'InvalidStateError' || name === 'VersionError' || name === 'SecurityError') {
    return new StorageError('missing-backend', `${what}: IndexedDB cannot be opened (${name})`, {
      cause: error,
    })
  }
  if (name === 'UnknownError' || name === 'AbortError' || name === 'TransactionInactiveError') {
    return new StorageError('unavailable', `${what}: IndexedDB transaction failed (${name})`, {
      cause: error,
    })
  }
  return error
}
