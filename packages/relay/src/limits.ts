/** Abuse and resource limits of a relay. Every field has a default ({@link DEFAULT_LIMITS}). */
export interface RelayLimits {
  /** Largest frame (envelope, presence, membership entry) in bytes. */
  readonly maxFrameBytes: number
  /** Largest snapshot upload in bytes. */
  readonly maxSnapshotBytes: number
  /** Milliseconds a connection may stay unauthenticated. */
  readonly authTimeoutMs: number
  /** Frames accepted before authentication (the `auth` frame included). */
  readonly preAuthMaxMessages: number
  /** Bytes accepted before authentication. */
  readonly preAuthMaxBytes: number
  /** Documents an authenticated connection may subscribe to (none before authentication). */
  readonly maxDocsPerConnection: number
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
}

/** Defaults sized for office documents: generous for humans, tight for scripts. */
export const DEFAULT_LIMITS: RelayLimits = {
  maxFrameBytes: 1024 * 1024,
  maxSnapshotBytes: 32 * 1024 * 1024,
  authTimeoutMs: 10_000,
  preAuthMaxMessages: 4,
  preAuthMaxBytes: 16 * 1024,
  maxDocsPerConnection: 1000,
  maxSubscribersPerDoc: 1000,
  messagesPerSecond: 500,
  messageBurst: 1000,
  bytesPerSecond: 8 * 1024 * 1024,
  byteBurst: 64 * 1024 * 1024,
  maxBufferedBytes: 16 * 1024 * 1024,
}
