import { StorageError } from '@valv/storage'

// SQLSTATEs: https://www.postgresql.org/docs/current/errcodes-appendix.html
const MISSING = new Set(['42P01', '3F000', '42501', '3D000', '28000', '28P01', '42883'])
const FULL = new Set(['53100', '53400'])
const UNAVAILABLE = new Set(['53200', '53300', '57P01', '57P02', '57P03', '40001', '40P01'])
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
])

/**
 * Translate a `pg` or socket error into a {@link StorageError}. Errors that are not about the
 * backend (bugs, bad SQL) are returned unchanged so they are not mistaken for outages.
 */
export function toStorageError(error: unknown, what: string): unknown {
  if (error instanceof StorageError) return error
  if (!(error instanceof Error)) return error
  const code = (error as { code?: unknown }).code
  const state = typeof code === 'string' ? code : ''
  if (MISSING.has(state)) {
    return new StorageError(
      'missing-backend',
      `${what}: table, schema or permission missing (${state})`,
      {
        cause: error,
      },
    )
  }
  if (FULL.has(state)) {
    return new StorageError('full', `${what}: database disk or quota is full (${state})`, {
      cause: error,
    })
  }
  if (
    UNAVAILABLE.has(state) ||
    state.startsWith('08') ||
    NETWORK.has(state) ||
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
      error.message,
    )
  ) {
    return new StorageError(
      'unavailable',
      `${what}: PostgreSQL unreachable (${state || error.message})`,
      {
        cause: error,
      },
    )
  }
  return error
}
