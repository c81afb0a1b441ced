/** Stable codes of {@link SlideError}. */
export type SlideErrorCode = 'unknown-slide' | 'unknown-element' | 'bad-argument' | 'out-of-range'

/** Thrown by the presentation model on bad input; the model is left unchanged. */
export class SlideError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: SlideErrorCode
  constructor(code: SlideErrorCode, message: string) {
    super(message)
    this.name = 'SlideError'
    this.code = code
  }
}
