/** Abuse and resource limits of a relay. Every field has a default ({@link DEFAULT_LIMITS}). */
export interface RelayLimits {
  /** Largest frame (envelope, presence, membership entry) in bytes. */
  readonly maxFrameBytes: number
  /** Largest presence frame in bytes (awareness and heads are small; presence is fanned out). */
  readonly maxPresenceBytes: number
  /** Largest snapshot upload in bytes. */
  readonly maxSnapshotBytes: number
  /** Milliseconds a connection may stay unauthenticated. */
  readonly authTimeoutMs: number
  /** Frames accepted before authentication (the `auth` frame included). */
  readonly preAuthMaxMessages: number
  /**
   * Bytes accepted before authentication, counted on the socket as they arrive (so a large
   * unfinished frame is cut off after this many bytes, not buffered).
   */
  readonly preAuthMaxBytes: number
  /** Open connections per remote address (0 = unlimited); more are refused with HTTP 429. */
  readonly maxConnectionsPerIp: number
  /**
   * Milliseconds an authenticated connection may stay subscribed to no document before it is
   * closed with 4408 (0 = never).
   */
  readonly idleTimeoutMs: number
  /** Presence frames of one connection waiting for verification; more are dropped. */
  readonly maxPendingPresence: number
  /**
   * Recent writes per document remembered by author and counter, so a resent envelope that is
   * already stored is acknowledged with its sequence number at once. One older than the window
   * is looked up in the log's tail after the base snapshot (up to 4,096 entries): still
   * acknowledged, never `stale`, only slower.
   */
  readonly retryWindow: number
  /** Documents an authenticated connection may subscribe to (none before authentication). */
  readonly maxDocsPerConnection: number
  /**
   * Documents held in memory by the whole relay (a subscription to a document nobody wrote yet
   * costs about 1 KiB); a subscribe beyond is refused with `limit-exceeded`.
   */
  readonly maxDocuments: number
  /** Concurrent subscribers per document. */
  readonly maxSubscribersPerDoc: number
  /** Sustained frames per second per connection (token bucket). */
  readonly messagesPerSecond: number
  /** Burst of frames per connection. */
  readonly messageBurst: number
  /** Sustained bytes per second per connection. */
  readonly bytesPerSecond: number
  /** Burst of bytes per connection. */
  readonly byteBurst: number
  /** Send-buffer cap: a client whose `bufferedAmount` exceeds it is dropped (close 4509). */
  readonly maxBufferedBytes: number
  /** Bytes of file ciphertext per document, committed and in progress (uploads beyond: `quota-exceeded`). */
  readonly fileQuotaBytes: number
  /** Largest `blob-chunk` payload, and the size of the `blob-data` frames the relay sends. */
  readonly maxBlobChunkBytes: number
  /** Chunk bytes of one upload received but not yet stored; more is `limit-exceeded`. */
  readonly maxUploadBacklogBytes: number
  /** Milliseconds an upload may stay uncommitted before a later upload's begin deletes it. */
  readonly uploadTtlMs: number
  /** Uploads begun and not committed on one connection. */
  readonly maxUploadsPerConnection: number
  /** Downloads running at once on one connection. */
  readonly maxDownloadsPerConnection: number
}

/** Defaults sized for office documents: generous for humans, tight for scripts. */
export const DEFAULT_LIMITS: RelayLimits = {
  maxFrameBytes: 1024 * 1024,
  maxPresenceBytes: 64 * 1024,
  maxSnapshotBytes: 32 * 1024 * 1024,
  authTimeoutMs: 10_000,
  preAuthMaxMessages: 4,
  preAuthMaxBytes: 16 * 1024,
  maxConnectionsPerIp: 1000,
  idleTimeoutMs: 60_000,
  maxPendingPresence: 32,
  retryWindow: 256,
  maxDocsPerConnection: 1000,
  maxDocuments: 100_000,
  maxSubscribersPerDoc: 1000,
  messagesPerSecond: 500,
  messageBurst: 1000,
  bytesPerSecond: 8 * 1024 * 1024,
  byteBurst: 64 * 1024 * 1024,
  maxBufferedBytes: 16 * 1024 * 1024,
  fileQuotaBytes: 1024 * 1024 * 1024,
  maxBlobChunkBytes: 256 * 1024,
  maxUploadBacklogBytes: 4 * 1024 * 1024,
  uploadTtlMs: 24 * 60 * 60 * 1000,
  maxUploadsPerConnection: 4,
  maxDownloadsPerConnection: 4,
}
