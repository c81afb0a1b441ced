/** Stable machine-readable codes of {@link BroadcastProviderError}. */
export type BroadcastProviderErrorCode =
  /** Options are missing or inconsistent (nothing was created). */
  | 'invalid-argument'
  /** `BroadcastChannel` does not exist in this runtime. */
  | 'unsupported'

/** The error type of `@valv/provider-broadcast`; `code` is stable. */
export class BroadcastProviderError extends Error {
  /** Stable machine-readable reason. */
  readonly code: BroadcastProviderErrorCode

  /** Create an error. */
  constructor(code: BroadcastProviderErrorCode, message: string) {
    super(message)
    this.name = 'BroadcastProviderError'
    this.code = code
  }
}
