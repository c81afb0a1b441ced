import type { BatchOptions, DocumentCrypto, EncryptedDoc, Misbehaviour } from '@valv/core'
import type { StorageAdapter } from '@valv/storage'
import type { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'
import type { BackoffOptions } from './backoff.js'
import type { ConnectionStatus, RelayConnection, WebSocketConstructor } from './connection.js'
import type { PresenceOptions } from './presence-channel.js'

/** Options of {@link WebsocketProvider}. Pass `binding`, or `doc` + `docId` + `document`. */
export type WebsocketProviderOptions = {
  /**
   * The shared connection to use (one socket for many documents). Without it the provider
   * opens its own from `url`, `token`, `WebSocketPolyfill`, `backoff` and `timeoutMs`.
   */
  readonly connection?: RelayConnection
  /** Relay URL, or several tried in turn when one fails (failover). */
  readonly url?: string | readonly string[]
  /** Several relay URLs, tried in turn on failure (same as an array `url`). */
  readonly urls?: readonly string[]
  /** Milliseconds of silence after which the path counts as dead (see {@link RelayConnection}). */
  readonly timeoutMs?: number
  /** Envelopes sent and not yet acknowledged at most (default 32); the rest wait their turn. */
  readonly maxInFlight?: number
  /** Credential for the relay's `onAuthenticate` hooks (e.g. an OIDC access token). */
  readonly token?: string | (() => string | Promise<string>)
  /** Connect in the constructor (default true). */
  readonly connect?: boolean
  /** WebSocket implementation where there is no global one (Node 20: `ws`). */
  readonly WebSocketPolyfill?: WebSocketConstructor
  /** Awareness to share; a new one on the document by default. */
  readonly awareness?: Awareness
  /** Presence timing (heads exchange, replay window). */
  readonly presence?: PresenceOptions
  /** Reconnect timing. */
  readonly backoff?: BackoffOptions
  /** Upload a snapshot once this many relay updates follow the last one (default 500; 0 = never). */
  readonly compactAfter?: number
} & (
  | {
      /** A binding shared with other transports. */
      readonly binding: EncryptedDoc
    }
  | {
      /** The document to sync. */
      readonly doc: Y.Doc
      /** Relay document id (1–200 chars of `[A-Za-z0-9._~-]`). */
      readonly docId: string
      /** The document's crypto handle (`DocumentCrypto` of `@valv/core`). */
      readonly document: DocumentCrypto
      /** Local storage for the offline queue, state cache and checkpoint. */
      readonly storage?: StorageAdapter
      /** Batching of local updates. */
      readonly batch?: BatchOptions
    }
)

/** Events of {@link WebsocketProvider}. */
export interface WebsocketProviderEvents {
  /** Connection state changed. */
  status: (e: { status: ConnectionStatus }) => void
  /** The document caught up with the relay (true) or lost the connection (false). */
  synced: (synced: boolean) => void
  /** Something failed; see {@link WebsocketProviderError} and `@valv/core` errors. */
  error: (error: Error) => void
  /** The relay misbehaved (withheld, replayed, rolled back, forked, forged). */
  misbehaviour: (m: Misbehaviour) => void
  /** The number of local changes the relay has not acknowledged changed. */
  unsyncedChanges: (count: number) => void
}
