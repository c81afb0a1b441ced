/**
 * End-to-end encrypted sync of a `Y.Doc` through a Valv relay, with an API like y-websocket /
 * HocuspocusProvider. Updates, snapshots and awareness are sealed on the client through
 * `@valv/core`; the relay only orders and stores ciphertext. Includes reconnect with backoff and
 * jitter, failover URLs, an offline queue, client-side compaction and detection of a relay that
 * withholds, replays or rolls back.
 *
 * @packageDocumentation
 */
export { Backoff, type BackoffOptions } from './backoff.js'
export {
  type ConnectionStatus,
  type DocumentChannel,
  RelayConnection,
  type RelayConnectionEvents,
  type RelayConnectionOptions,
  type WebSocketConstructor,
  type WebSocketLike,
} from './connection.js'
export { WebsocketProviderError, type WebsocketProviderErrorCode } from './errors.js'
export {
  deleteFile,
  downloadFile,
  type FileCrypto,
  type UploadedFile,
  type UploadOptions,
  uploadFile,
} from './files.js'
export {
  type OpenDocumentOptions,
  type OpenedDocument,
  openDocument,
} from './open-document.js'
export type { PacingOptions } from './pacer.js'
export { decodePresence, encodePresence, type PresenceMessage, ReplayGuard } from './presence.js'
export type { PresenceOptions } from './presence-channel.js'
export { WebsocketProvider } from './provider.js'
export type { WebsocketProviderEvents, WebsocketProviderOptions } from './provider-options.js'
