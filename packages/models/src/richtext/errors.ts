/** Stable codes of {@link RichTextError}. */
export type RichTextErrorCode =
  | 'bad-position'
  | 'bad-range'
  | 'bad-argument'
  | 'bad-content'
  | 'no-document'

/**
 * Thrown by the rich text model on bad input. The document is left unchanged when it is thrown.
 *
 * @example
 * ```ts
 * try { text.insertText(9999, 'x') } catch (e) { if (e instanceof RichTextError) console.log(e.code) }
 * ```
 */
export class RichTextError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: RichTextErrorCode
  constructor(code: RichTextErrorCode, message: string) {
    super(message)
    this.name = 'RichTextError'
    this.code = code
  }
}
