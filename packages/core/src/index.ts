/**
 * The encrypted document binding of Valv: a `Y.Doc` whose local updates are batched, sealed
 * (encrypted and signed through a {@link DocumentCrypto} seam) and queued offline, and whose
 * remote updates are verified before they are applied. It keeps signed checkpoints to reject a
 * relay's rollback and per-author heads to detect withholding. Transports build on it:
 * `@valv/provider-websocket` (relay) and `@valv/provider-broadcast` (tabs).
 *
 * @packageDocumentation
 */
export type { BatchOptions } from './batcher.js'
export { type Checkpoint, snapshotRollback } from './checkpoint.js'
export {
  ClientIds,
  MAX_CLIENT_IDS_PER_AUTHOR,
  readClientIds,
  writeClientIds,
} from './client-ids.js'
export type { DocumentCrypto, Opened, SealKind, SnapshotPosition } from './crypto-seam.js'
export {
  EncryptedDoc,
  type EncryptedDocEvents,
  type EncryptedDocOptions,
  type ReceiveResult,
} from './encrypted-doc.js'
export { CoreError, type CoreErrorCode } from './errors.js'
export { type Heads, missing, readHeads, writeHeads } from './heads.js'
export { eraseLocalCache, type QueuedEnvelope } from './local-store.js'
export type { Misbehaviour, MisbehaviourKind } from './misbehaviour.js'
export { decodeSnapshotBody, encodeSnapshotBody, type SnapshotBody } from './snapshot.js'
