import type { Frame } from '@valv/wire'

/**
 * How relay nodes that share one store tell each other what they stored (scale-out). The store
 * is the source of truth (sequence numbers, membership indexes, snapshots are decided there by
 * compare-and-append); the bus only carries hints, so a lost message delays delivery, never
 * loses data: a node that sees a gap, a conflict or a reconnect of the bus reads the store.
 */
export interface ClusterBus {
  /** This node's id, unique in the cluster (also the `node` label of `/metrics`). */
  readonly nodeId: string
  /**
   * Receive frames other nodes publish for `docId` (`deliver`, `membership`, `snapshot`,
   * `snapshot-confirm`, `presence`), in the order they were published by each node.
   */
  join(docId: string, onFrame: (frame: Frame) => void): Promise<void>
  /** Stop receiving frames for `docId`. */
  leave(docId: string): Promise<void>
  /** Tell the other nodes; fire and forget (the store already holds what matters). */
  publish(docId: string, frame: Frame): void
  /**
   * Called after the bus lost messages (a reconnect to Redis): every open document reads the
   * store for what it missed.
   */
  onResync(handler: () => void): void
  /** Disconnect. */
  close(): Promise<void>
}
