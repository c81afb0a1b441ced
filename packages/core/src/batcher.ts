import * as Y from 'yjs'

/** Tuning of local-update batching. */
export interface BatchOptions {
  /** Milliseconds to collect local updates before sealing them as one message (default 20). */
  readonly windowMs?: number
  /**
   * Largest batch merged with `Y.mergeUpdates` (default 256). Merging is super-linear, so a
   * larger burst (paste, import, machine replay) is encoded as a diff of the document instead.
   */
  readonly maxMerge?: number
}

/**
 * Collects local V1 updates from the `update` event (never a per-keystroke state-vector diff,
 * which carries the whole delete set) and hands one combined update to `flush` per window.
 */
export class Batcher {
  private buffer: Uint8Array[] = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly windowMs: number
  private readonly maxMerge: number

  constructor(
    private readonly doc: Y.Doc,
    private readonly flush: (update: Uint8Array) => void,
    options: BatchOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 20
    this.maxMerge = options.maxMerge ?? 256
  }

  /** Number of local updates waiting for the window to close. */
  get size(): number {
    return this.buffer.length
  }

  /** Add one local update; starts the window if it is the first. */
  push(update: Uint8Array): void {
    this.buffer.push(update)
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.drain(), this.windowMs)
    }
  }

  /** Close the window now (also used before destroy). */
  drain(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    const batch = this.buffer
    if (batch.length === 0) return
    this.buffer = []
    this.flush(this.combine(batch))
  }

  /** Stop the timer and forget buffered updates (after {@link drain} if they matter). */
  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.buffer = []
  }

  private combine(batch: Uint8Array[]): Uint8Array {
    if (batch.length === 1) return batch[0] as Uint8Array
    if (batch.length <= this.maxMerge) return Y.mergeUpdates(batch)
    // Large burst: diff the document from the lowest clock each client had in the batch. The
    // result holds every buffered struct (and the delete set), in one encode pass.
    const from = new Map<number, number>()
    for (const u of batch) {
      for (const [client, clock] of Y.parseUpdateMeta(u).from) {
        const seen = from.get(client)
        if (seen === undefined || clock < seen) from.set(client, clock)
      }
    }
    const sv = Y.decodeStateVector(Y.encodeStateVector(this.doc))
    for (const [client, clock] of from) sv.set(client, clock)
    return Y.encodeStateAsUpdate(this.doc, Y.encodeStateVector(sv))
  }
}
