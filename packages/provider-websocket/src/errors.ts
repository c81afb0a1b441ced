/** Stable machine-readable codes of {@link WebsocketProviderError}. */
export type WebsocketProviderErrorCode =
  /** Options are missing or inconsistent (nothing was created). */
  | 'invalid-argument'
  /** No `WebSocket` in this runtime and no `WebSocketPolyfill` given. */
  | 'no-websocket'
  /** The relay rejected a request (`relayCode` holds the wire `RejectCode`). */
  | 'rejected'
  /** The relay closed the connection permanently (`closeCode`); no reconnect. */
  | 'closed'
  /** The provider was destroyed. */
  | 'destroyed'
  /** A decrypted presence payload does not decode (`decodePresence`). */
  | 'malformed'

/**
 * The error type of `@valv/provider-websocket`, emitted on the `error` event and thrown by
 * the constructor and `appendMembership`. `code` is stable; messages never contain content.
 */
export class WebsocketProviderError extends Error {
  /** Stable machine-readable reason. */
  readonly code: WebsocketProviderErrorCode
  /** The relay's reject code for `rejected`. */
  readonly relayCode: string | undefined
  /** The WebSocket close code for `closed`. */
  readonly closeCode: number | undefined

  /** Create an error. */
  constructor(
    code: WebsocketProviderErrorCode,
    message: string,
    extra: { relayCode?: string; closeCode?: number; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause })
    this.name = 'WebsocketProviderError'
    this.code = code
    this.relayCode = extra.relayCode
    this.closeCode = extra.closeCode
  }
}
