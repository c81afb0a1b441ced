/** Stable codes of {@link ChatError}. */
export type ChatErrorCode =
  | 'unknown-channel'
  | 'unknown-message'
  | 'empty-message'
  | 'too-long'
  | 'redacted'
  | 'bad-argument'
  | 'redaction-unavailable'

/**
 * Thrown by the chat model on bad input. The document is left unchanged when it is thrown.
 *
 * @example
 * ```ts
 * try {
 *   chat.edit('general', 'no-such-message', 'hej')
 * } catch (e) {
 *   if (e instanceof ChatError) console.log(e.code)
 * }
 * ```
 */
export class ChatError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: ChatErrorCode
  constructor(code: ChatErrorCode, message: string) {
    super(message)
    this.name = 'ChatError'
    this.code = code
  }
}
