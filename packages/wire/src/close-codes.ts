/**
 * WebSocket close codes used by the relay. The contract: a client MUST NOT reconnect
 * automatically after a permanent code (`44xx`); it SHOULD reconnect with backoff after a
 * retryable one (`45xx`, `1011`, `1012`, `1013`, and any abnormal close such as `1006`).
 */
export const CloseCode = {
  /** Permanent: the peer sent bytes that are not a valid frame sequence. */
  ProtocolError: 4400,
  /** Permanent: authentication failed or was vetoed by a hook. */
  Unauthenticated: 4401,
  /** Permanent: the session was revoked (`relay.revoke`) or is no longer allowed. */
  Revoked: 4403,
  /**
   * Permanent for this socket: authenticated but subscribed to no document for the relay's idle
   * timeout. Open a new connection when there is a document to open.
   */
  Idle: 4408,
  /** Permanent: the client speaks a protocol version this relay does not support. */
  VersionUnsupported: 4426,
  /** Permanent: the browser origin is not allowed. */
  OriginForbidden: 4430,
  /** Retryable: no authentication in time, or limits before authentication were exceeded. */
  AuthTimeout: 4508,
  /** Retryable: the client could not keep up (send buffer over the cap); resync after reconnect. */
  SlowConsumer: 4509,
  /** Retryable: the connection exceeded its rate limit; back off before reconnecting. */
  RateLimited: 4529,
  /** Retryable: unexpected server error. */
  InternalError: 1011,
  /** Retryable: the relay is restarting or shutting down. */
  ServiceRestart: 1012,
  /** Retryable: the relay is overloaded. */
  TryAgainLater: 1013,
} as const

/** One of the values of {@link CloseCode}. */
export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode]

/**
 * Whether a client should reconnect after the socket closed with `code`. Only `44xx` and a
 * normal close (`1000`) are final; everything else (including `1006`, abnormal) is retryable.
 *
 * @example
 * ```ts
 * socket.onclose = (e) => {
 *   if (!isRetryableClose(e.code)) console.warn('the relay refused this client:', e.reason)
 * }
 * ```
 */
export function isRetryableClose(code: number): boolean {
  if (code === 1000) return false
  return !(code >= 4400 && code < 4500)
}
