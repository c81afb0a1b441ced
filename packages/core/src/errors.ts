/** Stable machine-readable codes of {@link CoreError}. */
export type CoreErrorCode =
  /** A constructor or method argument is invalid (nothing changed). */
  | 'invalid-argument'
  /** The binding was destroyed; it can no longer seal, open or persist. */
  | 'destroyed'
  /** The local member may not write (viewer or removed); the edit stays local only. */
  | 'not-a-writer'
  /** Bytes did not decode as the expected structure (after successful decryption). */
  | 'malformed'
  /** A locally stored checkpoint or state failed verification. */
  | 'corrupt-local-state'
  /**
   * An observer of the application threw while a verified remote update was applied. The
   * update is applied and counted; the observer's error is the `cause`.
   */
  | 'observer-threw'
  /**
   * No snapshot can be built now: nothing new to cover, or this client does not hold every
   * update since the current base (it started from local state; it compacts after the next
   * confirmed snapshot).
   */
  | 'cannot-compact'

/**
 * The error type of `@valv/core`. `code` is stable; the message is for humans and never
 * contains document content or key material.
 *
 * @example
 * ```ts
 * try {
 *   await binding.ready
 * } catch (e) {
 *   if (!(e instanceof CoreError && e.code === 'corrupt-local-state')) throw e
 *   console.warn('the local copy is unreadable; it will be fetched again from the relay')
 * }
 * ```
 */
export class CoreError extends Error {
  /** Stable machine-readable reason. */
  readonly code: CoreErrorCode

  /** Create an error; `cause` keeps the underlying error for logs. */
  constructor(code: CoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'CoreError'
    this.code = code
  }
}
