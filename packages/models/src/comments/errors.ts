/** Stable codes of {@link CommentError}. */
export type CommentErrorCode =
  | 'unknown-thread'
  | 'unknown-comment'
  | 'bad-anchor'
  | 'bad-argument'
  | 'not-author'
  | 'wrong-anchor-kind'

/**
 * Thrown by {@link Comments} on bad input; the comments document is left unchanged.
 *
 * @example
 * ```ts
 * try {
 *   comments.reply('nope', 'hi')
 * } catch (e) {
 *   if (e instanceof CommentError) console.log(e.code)
 * }
 * ```
 */
export class CommentError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: CommentErrorCode
  constructor(code: CommentErrorCode, message: string) {
    super(message)
    this.name = 'CommentError'
    this.code = code
  }
}
