import type { Socket } from 'node:net'
import type { Frame } from '@valv/wire'
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
  /** Resolves true once every `onConnect` hook passed, false if one vetoed. */
  connected: Promise<boolean> = Promise.resolve(true)
  /** Frames received while authentication hooks run; dispatched in order once they pass. */
  readonly held: { frame: Frame; size: number }[] = []
  /** Per document: the member whose presence this session sends (bound by the first one). */
  readonly presenceAuthors = new Map<string, string>()
  /** Presence frames waiting for verification, verified one after another to keep order. */
  presencePending = 0
  presenceTail: Promise<void> = Promise.resolve()
  /**
   * Per `docId + "\n" + author`: the counters of this session that were refused with
   * `storage-failed` (failed in storage, or waited for one that did) and are not stored yet.
   * A counter above the lowest of them is refused until that one is stored, so the author's
   * log stays in counter order and no refused envelope is passed by a later one (whose counter
   * would make its retry `stale`).
   */
  readonly unstored = new Map<string, Set<number>>()
  /** Stops counting socket bytes against the pre-auth limit (called once authenticated). */
  unmeter: () => void = () => {}
  /** Closes the session after `idleTimeoutMs` without a subscription. */
  idleTimer: ReturnType<typeof setTimeout> | undefined
  readonly messages: TokenBucket
  readonly bytes: TokenBucket

  constructor(
    /** Relay-assigned session id. */
    readonly sessionId: string,
    readonly ws: WebSocket,
    /** The TCP socket under `ws` (from the upgrade), corked while a turn's frames gather. */
    readonly socket: Socket,
    limits: RelayLimits,
  ) {
    this.messages = new TokenBucket(limits.messagesPerSecond, limits.messageBurst)
    this.bytes = new TokenBucket(limits.bytesPerSecond, limits.byteBurst)
  }
}
