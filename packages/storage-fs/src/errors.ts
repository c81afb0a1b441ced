import { StorageError } from '@valv/storage'

/** Node's `code` of a system error, if it has one. */
export const errno = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : undefined

/**
 * Translate a filesystem error into a `StorageError` with a stable code; anything that
 * is already a `StorageError`, or not a system error (a failing blob source), passes through.
 */
export function toStorageError(error: unknown, what: string): unknown {
  if (error instanceof StorageError) return error
  const code = errno(error)
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EFBIG':
      return new StorageError('full', `${what}: the disk or quota is full`, { cause: error })
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
    case 'ENOTDIR':
      return new StorageError('missing-backend', `${what}: the storage directory is not usable`, {
        cause: error,
      })
    case 'EMFILE':
    case 'ENFILE':
    case 'EIO':
    case 'EAGAIN':
    case 'EBUSY':
      return new StorageError('unavailable', `${what}: the filesystem is unavailable (${code})`, {
        cause: error,
      })
    default:
      return error
  }
}
