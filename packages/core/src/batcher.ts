import * as Y from 'yjs'

/** Tuning of local-update batching. */
export interface BatchOptions {
  /**
   * Milliseconds to hold a local update before sealing it (default 0: adaptive). With 0, an
   * update arriving while nothing is being sealed is sealed at once, so a lone keystroke waits
   * for no timer; updates arriving while a seal is in flight are collected and sealed as one
   * message when it completes (as y-websocket sends at once and Nagle batches under load).
   */
  readonly windowMs?: number
  /**
   * Largest batch merged with `Y.mergeUpdates` (default 256). Merging is super-linear, so a
   * larger burst (paste, import, machine replay) is encoded as a diff of the document instead.
   */
  readonly maxMerge?: number
}

/**
 * Collects local V1 updates from the `update` event (never a per-keystroke state-vector diff,
 * which carries the whole delete set) and hands one combined update to `flush`: at once when
 * idle, otherwise when the flush in flight settles (or, with `windowMs`, when the window closes).
 */
export class Batcher {
  private buffer: Uint8Array[] = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private inFlight = false
  private readonly windowMs: number
  private readonly maxMerge: number

  constructor(
    private readonly doc: Y.Doc,
    private readonly flush: (update: Uint8Array) => Promise<unknown>,
    options: BatchOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 0
    this.maxMerge = options.maxMerge ?? 256
  }

  /** Number of local updates waiting to be flushed. */
  get size(): number {
    return this.buffer.length
  }

  /** Add one local update: flushed at once when idle, else collected. */
  push(update: Uint8Array): void {
    this.buffer.push(update)
    if (this.windowMs > 0) {
      if (this.timer === undefined) {
        this.timer = setTimeout(() => this.drain(), this.windowMs)
      }
      return
    }
    if (!this.inFlight) this.drain()
  }

  /** Flush what is buffered now (also used before destroy). */
  drain(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    const batch = this.buffer
    if (batch.length === 0) return
    this.buffer = []
    this.inFlight = true
    const settled = () => {
      this.inFlight = false
      // What arrived during the flight goes out as one message now.
      if (this.windowMs === 0 && this.buffer.length > 0) this.drain()
    }
    this.flush(this.combine(batch)).then(settled, settled)
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
