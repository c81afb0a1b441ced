/** Stable machine-readable codes of {@link StorageError}. */
export type StorageErrorCode =
  /** A key segment is empty, `.` or `..`, too long or has characters outside `[A-Za-z0-9._~-]`. */
  | 'invalid-key'
  /** A value is not a `Uint8Array` (or a sequence number is not a safe integer >= 0). */
  | 'invalid-value'
  /** The backing table, bucket or directory does not exist and cannot be created. */
  | 'missing-backend'
  /** The backend could not be reached; the operation may be retried. */
  | 'unavailable'
  /** The disk or quota is full; nothing was written. */
  | 'full'
  /** A write conflicts with different bytes already stored under the same sequence number. */
  | 'conflict'
  /** Stored bytes failed an integrity check. */
  | 'corrupt'
  /** The adapter was closed. */
  | 'closed'

/**
 * The one error type storage adapters and {@link DocumentStore} throw. `code` is stable;
 * `retryable` says whether the same call may succeed if repeated.
 */
export class StorageError extends Error {
  /** Stable machine-readable reason. */
  readonly code: StorageErrorCode
  /** Whether repeating the same call may succeed. */
  readonly retryable: boolean

  /** Create an error; `cause` keeps the backend's own error for logs. */
  constructor(
    code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'StorageError'
    this.code = code
    this.retryable = options?.retryable ?? code === 'unavailable'
  }
}

const SEGMENT = /^[A-Za-z0-9._~-]{1,200}$/

/**
 * Throws `invalid-key` unless every segment is valid; adapters call it before any I/O.
 * `.` and `..` are refused although their characters are allowed: they would name the current
 * or parent directory in a filesystem layout.
 */
export function assertValidKey(key: readonly string[], allowEmpty = false): void {
  if (!Array.isArray(key)) throw new StorageError('invalid-key', 'a key is an array of segments')
  if (!allowEmpty && key.length === 0) throw new StorageError('invalid-key', 'empty key')
  for (const segment of key) {
    if (
      typeof segment !== 'string' ||
      !SEGMENT.test(segment) ||
      segment === '.' ||
      segment === '..'
    ) {
      throw new StorageError(
        'invalid-key',
        `invalid key segment ${JSON.stringify(String(segment).slice(0, 40))}`,
      )
    }
  }
}
