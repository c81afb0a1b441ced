/** Stable codes of {@link WireError}. */
export type WireErrorCode =
  | 'malformed-frame'
  | 'unknown-frame-type'
  | 'invalid-doc-id'
  | 'invalid-blob-id'

/**
 * Thrown when bytes cannot be decoded as a frame, or a frame cannot be encoded. Decoding is
 * all-or-nothing: a frame that throws was not partially applied anywhere.
 */
export class WireError extends Error {
  /** Stable machine-readable reason. */
  readonly code: WireErrorCode

  /** @param code - stable reason; @param message - human text (never contains payload bytes) */
  constructor(code: WireErrorCode, message: string) {
    super(message)
    this.name = 'WireError'
    this.code = code
  }
}
