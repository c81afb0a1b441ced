/**
 * Frames that carry encrypted files (blobs) through the relay; see docs/protocol.md, "Files
 * through the relay". Every request carries a `ref` answered by an `ack` (whose `seq` is the
 * byte offset or size named below) or an `error`. The bytes are ciphertext the relay cannot read.
 */

/**
 * Client → relay: start or resume uploading blob `blobId`. Answered by `ack` with `seq` = the
 * bytes already stored (0 for a new upload): send chunks from there.
 */
export interface BlobBeginFrame {
  /** Frame discriminator. */
  readonly type: 'blob-begin'
  /** Document the blob belongs to (the uploader must be subscribed). */
  readonly docId: string
  /** Client-chosen request id, echoed by the matching `ack` or `error`. */
  readonly ref: number
  /** The blob's id: 1–100 characters of `[A-Za-z0-9_-]`. */
  readonly blobId: string
  /** Total ciphertext bytes, reserved against the quota; 0 = not known yet. */
  readonly size: number
  /** A signed upload grant (`encodeBlobGrant` of `@valv/protocol`, op `upload`). */
  readonly grant: Uint8Array
}
/** Client → relay: ciphertext bytes of an upload at `offset`. Answered by `ack`, `seq` = new offset. */
export interface BlobChunkFrame {
  /** Frame discriminator. */
  readonly type: 'blob-chunk'
  /** Document the blob belongs to. */
  readonly docId: string
  /** Client-chosen request id, echoed by the matching `ack` or `error`. */
  readonly ref: number
  /** The blob being uploaded (begun on this connection). */
  readonly blobId: string
  /** Byte offset of `data` in the blob; must equal the bytes stored so far. */
  readonly offset: number
  /** Ciphertext bytes (at most the relay's chunk limit). */
  readonly data: Uint8Array
}
/**
 * Client → relay: the upload is complete at `size` bytes; make it downloadable. Answered by
 * `ack` with `seq` = `size`.
 */
export interface BlobCommitFrame {
  /** Frame discriminator. */
  readonly type: 'blob-commit'
  /** Document the blob belongs to. */
  readonly docId: string
  /** Client-chosen request id, echoed by the matching `ack` or `error`. */
  readonly ref: number
  /** The blob being uploaded. */
  readonly blobId: string
  /** Total bytes; must equal the bytes stored (and the size declared at begin, if any). */
  readonly size: number
}
/**
 * Client → relay: download a committed blob from byte `offset` (resume). Answered by
 * `blob-data` frames in order, then `ack` with `seq` = the blob's total size.
 */
export interface BlobFetchFrame {
  /** Frame discriminator. */
  readonly type: 'blob-fetch'
  /** Document the blob belongs to (the reader must be subscribed). */
  readonly docId: string
  /** Client-chosen request id, echoed by `blob-data`, `ack` or `error`. */
  readonly ref: number
  /** The blob to read. */
  readonly blobId: string
  /** First byte wanted (0 = from the start). */
  readonly offset: number
  /** A signed download grant (op `download`). */
  readonly grant: Uint8Array
}
/** Relay → client: bytes of a download requested by `ref`, at `offset`. */
export interface BlobDataFrame {
  /** Frame discriminator. */
  readonly type: 'blob-data'
  /** Document the blob belongs to. */
  readonly docId: string
  /** The `ref` of the `blob-fetch` this answers. */
  readonly ref: number
  /** Byte offset of `data` in the blob. */
  readonly offset: number
  /** Ciphertext bytes. */
  readonly data: Uint8Array
}
/** Client → relay: delete a blob (committed or not). Answered by `ack` with `seq` = 0. */
export interface BlobDeleteFrame {
  /** Frame discriminator. */
  readonly type: 'blob-delete'
  /** Document the blob belongs to. */
  readonly docId: string
  /** Client-chosen request id, echoed by the matching `ack` or `error`. */
  readonly ref: number
  /** The blob to delete. */
  readonly blobId: string
  /** A signed delete grant (op `delete`). */
  readonly grant: Uint8Array
}

/** Every blob frame. */
export type BlobFrame =
  | BlobBeginFrame
  | BlobChunkFrame
  | BlobCommitFrame
  | BlobFetchFrame
  | BlobDataFrame
  | BlobDeleteFrame

const BLOB_ID = /^[A-Za-z0-9_-]{1,100}$/

/** Whether `id` is a valid blob id: 1–100 characters of `[A-Za-z0-9_-]` (base64url). */
export function isValidBlobId(id: string): boolean {
  return BLOB_ID.test(id)
}
