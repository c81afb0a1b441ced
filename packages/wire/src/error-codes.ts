/**
 * Codes carried by an error frame. Each rejects one request (identified by its `ref`) and
 * changes nothing on the relay; the connection stays open.
 */
export const RejectCode = {
  /** The frame could not be decoded or violates the protocol. */
  Malformed: 'malformed',
  /** The frame or the envelope inside it exceeds the relay's size limit. */
  TooLarge: 'too-large',
  /** The envelope's signature does not verify. */
  BadSignature: 'bad-signature',
  /** The author's role (per the membership chain) does not allow this write. */
  Forbidden: 'forbidden',
  /** The author's counter is not greater than one already accepted (replay or reorder). */
  Stale: 'stale',
  /** The document id is not valid, or the request needs a subscription first. */
  NotSubscribed: 'not-subscribed',
  /** A hook (authorisation) vetoed access to the document. */
  Unauthorized: 'unauthorized',
  /** Compare-and-append on the membership chain lost: the head moved. */
  MembershipConflict: 'membership-conflict',
  /** The membership entry is not a valid successor of the chain. */
  MembershipInvalid: 'membership-invalid',
  /** Compare-and-swap on the snapshot lost: another snapshot was stored first. */
  SnapshotConflict: 'snapshot-conflict',
  /** The snapshot claims to cover updates the relay does not have, or is otherwise invalid. */
  SnapshotInvalid: 'snapshot-invalid',
  /** A per-document or per-connection limit was reached. */
  LimitExceeded: 'limit-exceeded',
  /** The relay could not make the write durable. Retry later. */
  StorageFailed: 'storage-failed',
  /** The blob does not exist, or is not committed yet. */
  NotFound: 'not-found',
  /** The document's file quota would be exceeded; nothing was stored. */
  QuotaExceeded: 'quota-exceeded',
  /**
   * The blob request does not fit the stored state: a chunk not at the stored offset, a size
   * that differs from the upload begun, a chunk or commit without a begin on this connection.
   */
  BlobConflict: 'blob-conflict',
  /**
   * The document was erased on the relay (an admin's `erase` frame): it is gone, and every
   * later subscribe or write to its id is refused.
   */
  Erased: 'erased',
  /** The relay failed unexpectedly while handling the request; nothing changed. Retry later. */
  Internal: 'internal-error',
} as const

/** One of the values of {@link RejectCode}. */
export type RejectCodeValue = (typeof RejectCode)[keyof typeof RejectCode]
