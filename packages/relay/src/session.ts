import type { WebSocket } from 'ws'
import type { SessionContext } from './hooks.js'
import type { RelayLimits } from './limits.js'
import { TokenBucket } from './token-bucket.js'

/** What `revoke` filters see of a live session. */
export interface SessionInfo {
  /** Relay-assigned session id. */
  readonly sessionId: string
  /** Whether authentication succeeded. */
  readonly authenticated: boolean
  /** What `onAuthenticate` stored (e.g. `{ user: 'alice' }`). */
  readonly context: SessionContext
  /** Documents the session is subscribed to. */
  readonly docs: ReadonlySet<string>
}

/** One WebSocket connection. */
export class Session implements SessionInfo {
  authenticated = false
  authenticating = false
  closed = false
  /** What `onAuthenticate` stored for this session. */
  readonly context: SessionContext = {}
  readonly docs = new Set<string>()
  preAuthMessages = 0
  preAuthBytes = 0
  readonly messages: TokenBucket
  readonly bytes: TokenBucket

  constructor(
    /** Relay-assigned session id. */
    readonly sessionId: string,
    readonly ws: WebSocket,
    limits: RelayLimits,
  ) {
    this.messages = new TokenBucket(limits.messagesPerSecond, limits.messageBurst)
    this.bytes = new TokenBucket(limits.bytesPerSecond, limits.byteBurst)
  }
}
