import type { BlobFrame } from './blob-frames.js'

/**
 * The frames exchanged between a client and the relay. Every document-scoped frame carries its
 * `docId`, so one socket multiplexes many documents. Requests that change relay state carry a
 * client-chosen `ref` that the matching `ack` or `error` echoes.
 */

/** Numeric frame tags on the wire (first varUint of every frame). Never reuse a number. */
export const FrameType = {
  /** Tag of {@link AuthFrame}. */
  Auth: 0,
  /** Tag of {@link AuthOkFrame}. */
  AuthOk: 1,
  /** Tag of {@link SubscribeFrame}. */
  Subscribe: 2,
  /** Tag of {@link UnsubscribeFrame}. */
  Unsubscribe: 3,
  /** Tag of {@link EnvelopeFrame}. */
  Envelope: 4,
  /** Tag of {@link DeliverFrame}. */
  Deliver: 5,
  /** Tag of {@link AckFrame}. */
  Ack: 6,
  /** Tag of {@link ErrorFrame}. */
  Error: 7,
  /** Tag of {@link SyncedFrame}. */
  Synced: 8,
  /** Tag of {@link MembershipAppendFrame}. */
  MembershipAppend: 9,
  /** Tag of {@link MembershipFrame}. */
  Membership: 10,
  /** Tag of {@link SnapshotUploadFrame}. */
  SnapshotUpload: 11,
  /** Tag of {@link SnapshotFrame}. */
  Snapshot: 12,
  /** Tag of {@link PresenceFrame}. */
  Presence: 13,
  /** Tag of {@link PingFrame}. */
  Ping: 14,
  /** Tag of {@link PongFrame}. */
  Pong: 15,
  /** Tag of {@link SnapshotConfirmFrame}. */
  SnapshotConfirm: 16,
  /** Tag of {@link BlobBeginFrame}. */
  BlobBegin: 17,
  /** Tag of {@link BlobChunkFrame}. */
  BlobChunk: 18,
  /** Tag of {@link BlobCommitFrame}. */
  BlobCommit: 19,
  /** Tag of {@link BlobFetchFrame}. */
  BlobFetch: 20,
  /** Tag of {@link BlobDataFrame}. */
  BlobData: 21,
  /** Tag of {@link BlobDeleteFrame}. */
  BlobDelete: 22,
  /** Tag of {@link EraseFrame}. */
  Erase: 23,
} as const

/**
 * Version of this frame format, sent in {@link AuthFrame}. 2: snapshots carry their
 * confirmation state ({@link SnapshotFrame}) and {@link SnapshotConfirmFrame} exists.
 */
export const WIRE_VERSION = 2

/** Client → relay, first frame: protocol version and an opaque credential for `onAuthenticate`. */
export interface AuthFrame {
  /** Frame discriminator. */
  readonly type: 'auth'
  /** Wire format version ({@link WIRE_VERSION}). */
  readonly version: number
  /** Opaque credential checked by `onAuthenticate` (e.g. an OIDC/JWT access token). */
  readonly token: string
}
/** Relay → client: authentication succeeded. */
export interface AuthOkFrame {
  /** Frame discriminator. */
  readonly type: 'auth-ok'
  /** Relay-assigned session id (for logs and `revoke`). */
  readonly sessionId: string
}
/**
 * Client → relay: start receiving a document. The relay answers with the membership chain
 * from `membershipFrom`, the newest snapshot (if newer than `snapshotSeq`), every update
 * after `sinceSeq` (or after the snapshot), then `synced`.
 */
export interface SubscribeFrame {
  /** Frame discriminator. */
  readonly type: 'subscribe'
  /** Document the frame is about. */
  readonly docId: string
  /** Highest sequence number the client already has (0 = nothing). */
  readonly sinceSeq: number
  /** `upToSeq` of the snapshot the client already has (0 = none). */
  readonly snapshotSeq: number
  /**
   * Index of the first membership entry to send. Providers pass one less than the number of
   * entries they have, so the relay proves it still holds the newest one (rollback check).
   */
  readonly membershipFrom: number
}
/** Client → relay: stop receiving a document. */
export interface UnsubscribeFrame {
  /** Frame discriminator. */
  readonly type: 'unsubscribe'
  /** Document the frame is about. */
  readonly docId: string
}
/** Client → relay: one signed, encrypted update envelope (opaque to the wire layer). */
export interface EnvelopeFrame {
  /** Frame discriminator. */
  readonly type: 'envelope'
  /** Document the frame is about. */
  readonly docId: string
  /** Client-chosen request id, echoed by the matching `ack` or `error`. */
  readonly ref: number
  /** Signed, encrypted update envelope (opaque bytes). */
  readonly envelope: Uint8Array
}
/** Relay → client: an accepted update with its per-document sequence number. */
export interface DeliverFrame {
  /** Frame discriminator. */
  readonly type: 'deliver'
  /** Document the frame is about. */
  readonly docId: string
  /** Per-document sequence number (see the frame description). */
  readonly seq: number
  /** Signed, encrypted update envelope (opaque bytes). */
  readonly envelope: Uint8Array
}
/**
 * Relay → client: the request `ref` is durable. For an envelope `seq` is its sequence number,
 * for a membership entry its index, for a snapshot its `upToSeq`.
 */
export interface AckFrame {
  /** Frame discriminator. */
  readonly type: 'ack'
  /** Document the frame is about. */
  readonly docId: string
  /** Client-chosen request id, echoed by the matching `ack` or `error`. */
  readonly ref: number
  /** Per-document sequence number (see the frame description). */
  readonly seq: number
}
/** Relay → client: request `ref` was rejected and changed nothing (`ref` 0 = not tied to one). */
export interface ErrorFrame {
  /** Frame discriminator. */
  readonly type: 'error'
  /** Empty when the error is not about one document. */
  readonly docId: string
  /** Client-chosen request id, echoed by the matching `ack` or `error`. */
  readonly ref: number
  /** A {@link RejectCode} value. */
  readonly code: string
  /** Human text; never contains content. */
  readonly message: string
}
/** Relay → client: the catch-up after `subscribe` is complete up to `headSeq`. */
export interface SyncedFrame {
  /** Frame discriminator. */
  readonly type: 'synced'
  /** Document the frame is about. */
  readonly docId: string
  /** Highest sequence number stored for the document. */
  readonly headSeq: number
}
/**
 * Client → relay: append a signed membership entry, compare-and-append: it is stored only if
 * the chain currently has exactly `index` entries.
 */
export interface MembershipAppendFrame {
  /** Frame discriminator. */
  readonly type: 'membership-append'
  /** Document the frame is about. */
  readonly docId: string
  /** Client-chosen request id, echoed by the matching `ack` or `error`. */
  readonly ref: number
  /** Expected chain length before the append (the new entry's index). */
  readonly index: number
  /** Signed membership entry (opaque). */
  readonly entry: Uint8Array
}
/** Relay → client: one membership chain entry. */
export interface MembershipFrame {
  /** Frame discriminator. */
  readonly type: 'membership'
  /** Document the frame is about. */
  readonly docId: string
  /** Position in the membership chain (0 = genesis). */
  readonly index: number
  /** Signed membership entry (opaque). */
  readonly entry: Uint8Array
}
/**
 * Client → relay: an encrypted, signed snapshot covering every update up to `upToSeq`.
 * `prevSeq` and `upToSeq` must equal the snapshot's signed header, which also names the
 * previous snapshot's id. Compare-and-swap: accepted only if that is the relay's confirmed
 * snapshot. The relay keeps the covered updates until a second writer confirms it
 * ({@link SnapshotConfirmFrame}), or at once if its author is the only writer.
 */
export interface SnapshotUploadFrame {
  /** Frame discriminator. */
  readonly type: 'snapshot-upload'
  /** Document the frame is about. */
  readonly docId: string
  /** Client-chosen request id, echoed by the matching `ack` or `error`. */
  readonly ref: number
  /** `upToSeq` of the snapshot this one replaces (0 = none). */
  readonly prevSeq: number
  /** Last sequence number the snapshot covers. */
  readonly upToSeq: number
  /** Encrypted, signed snapshot (opaque). */
  readonly snapshot: Uint8Array
}
/**
 * Relay → client: a snapshot covering updates up to `upToSeq`. Confirmed: the document's base
 * (covered updates are gone). Not confirmed: pending, sent after the updates it covers so that
 * members can check it; never a base.
 */
export interface SnapshotFrame {
  /** Frame discriminator. */
  readonly type: 'snapshot'
  /** Document the frame is about. */
  readonly docId: string
  /** Last sequence number the snapshot covers. */
  readonly upToSeq: number
  /** Encrypted, signed snapshot (opaque). */
  readonly snapshot: Uint8Array
  /** Whether the relay made it the base. */
  readonly confirmed: boolean
  /** The second writer's signed confirmation (empty: pending, or the author is sole writer). */
  readonly confirmation: Uint8Array
}
/**
 * Client → relay: a writer's signed confirmation of the pending snapshot covering `upToSeq`,
 * after recomputing it; the relay then makes it the base and deletes the covered updates.
 * Relay → client (`ref` 0): the pending snapshot at `upToSeq` became the base with this
 * confirmation (empty: its author is the only writer).
 */
export interface SnapshotConfirmFrame {
  /** Frame discriminator. */
  readonly type: 'snapshot-confirm'
  /** Document the frame is about. */
  readonly docId: string
  /** Client-chosen request id, echoed by the matching `ack` or `error`; 0 from the relay. */
  readonly ref: number
  /** `upToSeq` of the confirmed snapshot. */
  readonly upToSeq: number
  /** Signed confirmation (opaque to the wire layer). */
  readonly confirmation: Uint8Array
}
/**
 * Both directions: an encrypted presence/awareness payload, relayed to the document's other
 * subscribers and never stored.
 */
export interface PresenceFrame {
  /** Frame discriminator. */
  readonly type: 'presence'
  /** Document the frame is about. */
  readonly docId: string
  /** Encrypted presence bytes (opaque). */
  readonly payload: Uint8Array
}
/** Both directions: liveness probe. */
export interface PingFrame {
  /** Frame discriminator. */
  readonly type: 'ping'
  /** Arbitrary number echoed by the answer. */
  readonly nonce: number
}
/** Both directions: answer to {@link PingFrame}. */
export interface PongFrame {
  /** Frame discriminator. */
  readonly type: 'pong'
  /** Arbitrary number echoed by the answer. */
  readonly nonce: number
}

/**
 * Client → relay: erase the document on the relay (log, snapshots, membership chain, files)
 * and refuse it from then on. `request` is an admin's signed erase request (`verifyEraseRequest`
 * of `@valv/protocol`), bound to this document, this relay session and the current chain
 * length. Answered by `ack` (`seq` = position of the relay's audit entry for the erasure) or
 * `error`; other subscribers get `error` with code `erased` and `ref` 0.
 */
export interface EraseFrame {
  /** Frame discriminator. */
  readonly type: 'erase'
  /** Document to erase (the sender must be subscribed). */
  readonly docId: string
  /** Client-chosen request id, echoed by the matching `ack` or `error`. */
  readonly ref: number
  /** Signed erase request (opaque to the wire layer). */
  readonly request: Uint8Array
}

/** Any frame. */
export type Frame =
  | AuthFrame
  | AuthOkFrame
  | SubscribeFrame
  | UnsubscribeFrame
  | EnvelopeFrame
  | DeliverFrame
  | AckFrame
  | ErrorFrame
  | SyncedFrame
  | MembershipAppendFrame
  | MembershipFrame
  | SnapshotUploadFrame
  | SnapshotFrame
  | SnapshotConfirmFrame
  | PresenceFrame
  | PingFrame
  | PongFrame
  | BlobFrame
  | EraseFrame
