import { StorageError } from '@valv/storage'

const MISSING = new Set([
  'NoSuchBucket',
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AllAccessDisabled',
])
const FULL = new Set([
  'QuotaExceeded',
  'XMinioStorageFull',
  'InsufficientStorage',
  'XMinioAdminBucketQuotaExceeded',
])
const UNAVAILABLE = new Set([
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'TimeoutError',
  'RequestTimeTooSkewed',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
])

/** Whether an SDK error means "this object does not exist". */
export function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } }
  return (
    e?.name === 'NoSuchKey' ||
    e?.Code === 'NoSuchKey' ||
    (e?.name === 'NotFound' && e.$metadata?.httpStatusCode === 404)
  )
}

/**
 * Translate an S3 SDK or socket error into a {@link StorageError}; errors that are not about
 * the service (bugs, aborted sources) are returned unchanged. The SDK has already retried
 * transient failures (3 attempts by default) before this runs.
 */
export function toStorageError(error: unknown, what: string): unknown {
  if (error instanceof StorageError || !(error instanceof Error)) return error
  const e = error as Error & {
    Code?: string
    code?: string
    $metadata?: { httpStatusCode?: number }
  }
  const name = e.Code ?? (e.name !== 'Error' ? e.name : undefined) ?? e.code ?? ''
  const status = e.$metadata?.httpStatusCode ?? 0
  if (MISSING.has(name) || MISSING.has(e.name)) {
    return new StorageError(
      'missing-backend',
      `${what}: bucket missing or not accessible (${name})`,
      { cause: error },
    )
  }
  if (FULL.has(name) || status === 507) {
    return new StorageError('full', `${what}: storage quota or disk full (${name})`, {
      cause: error,
    })
  }
  if (UNAVAILABLE.has(name) || UNAVAILABLE.has(e.code ?? '') || status >= 500) {
    return new StorageError(
      'unavailable',
      `${what}: object storage unreachable (${name || status})`,
      { cause: error },
    )
  }
  return error
}
