import type { RejectCodeValue } from '@valv/wire'

/**
 * A rejected request. `code` is sent to the client in an error frame; the relay state is
 * unchanged. Verifiers throw it to reject an envelope, membership entry or snapshot.
 *
 * @example
 * ```ts
 * throw new RelayError('forbidden', 'viewers cannot write')
 * ```
 */
export class RelayError extends Error {
  /** Stable reason, one of `@valv/wire`'s `RejectCode` values. */
  readonly code: RejectCodeValue

  /** @param code - stable reason; @param message - human text without content */
  constructor(code: RejectCodeValue, message: string) {
    super(message)
    this.name = 'RelayError'
    this.code = code
  }
}

/** Stable codes of {@link RelayConfigError}. */
export type RelayConfigErrorCode =
  | 'invalid-option'
  | 'unknown-storage'
  | 'storage-unavailable'
  /** The storage is outside the allowed locations (data residency; see `checkResidency`). */
  | 'residency'

/** Thrown for bad relay configuration (options, CLI flags, storage URL). */
export class RelayConfigError extends Error {
  /** Stable reason. */
  readonly code: RelayConfigErrorCode

  /** @param code - stable reason; @param message - human text */
  constructor(code: RelayConfigErrorCode, message: string) {
    super(message)
    this.name = 'RelayConfigError'
    this.code = code
  }
}
