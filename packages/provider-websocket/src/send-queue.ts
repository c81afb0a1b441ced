import type { EncryptedDoc, QueuedEnvelope } from '@valv/core'
import type { Frame } from '@valv/wire'
import { Backoff, type BackoffOptions } from './backoff.js'

/** What the send queue needs from the document's sync. */
export interface SendQueueHost {
  readonly binding: EncryptedDoc
  /** Whether the document is subscribed and caught up (envelopes may go out). */
  isSynced(): boolean
  /** Whether the connection told the document to subscribe. */
  isOpen(): boolean
  /** Counts sockets: work started on one must not act on the next. */
  epoch(): number
  /** A request reference unique among the document's requests. */
  nextRef(): number
  send(frame: Frame): void
  /** Read the log again from the last contiguous sequence number. */
  resync(): void
  /** The binding's sequence numbers moved (gap check, compaction). */
  afterSeq(): void
  fail(e: unknown): void
}

type InFlight = {
  readonly counter: number
  /** First time the envelope was handed out: a `stale` answer proves it is not stored. */
  readonly first: boolean
}

/**
 * The document's outgoing updates: the binding's offline queue sent in counter order, at most
 * `maxInFlight` unacknowledged at a time, so a long offline queue drains under the relay's rate
 * limit instead of tripping it; the relay's answers (`ack`, or `stale`, `not-subscribed`,
 * `storage-failed`) decide what is resent, resealed or retried.
 */
export class SendQueue {
  private readonly inflight = new Map<number, InFlight>()
  private readonly sentCounters = new Set<number>()
  /**
   * Counters answered `stale` on a resend: they may be stored (the relay can no longer compare
   * them), so they are resealed only if still queued after a fresh read of the log (a delivery
   * of one acknowledges it; see `EncryptedDoc.receiveUpdate`).
   */
  private readonly unsure = new Set<number>()
  /** Merging unsent envelopes: nothing else is sent meanwhile, so counters stay in order. */
  private coalescing = false
  /** Resends the queue after the relay's storage failed (`storage-failed`), with backoff. */
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private readonly retryBackoff: Backoff

  constructor(
    private readonly host: SendQueueHost,
    private readonly maxInFlight: number,
    backoff?: BackoffOptions,
  ) {
    this.retryBackoff = new Backoff(backoff)
  }

  /**
   * Send queued envelopes in counter order, at most `maxInFlight` unacknowledged at a time.
   * Unsent envelopes beyond one are first merged into one (sealed by the binding under a fresh
   * counter; the binding merges only envelopes never handed out, the others may be stored and
   * go again as they are); nothing is sent while that runs, so the relay sees counters in order.
   */
  pump(): void {
    if (!this.host.isSynced() || this.coalescing) return
    const unsent = this.host.binding.pending().filter((e) => !this.sentCounters.has(e.counter))
    if (unsent.length === 0) return
    if (unsent.length > 1) {
      this.coalescing = true
      const epoch = this.host.epoch()
      this.host.binding
        .coalesce(unsent.map((e) => e.counter))
        .catch((e) => this.host.fail(e))
        .finally(() => {
          this.coalescing = false
          if (this.host.epoch() === epoch) this.sendUnsent()
        })
      return
    }
    this.sendUnsent()
  }

  /** The log was read again: an envelope answered `stale` that is still queued is not in it. */
  synced(): void {
    const queued = new Set(this.host.binding.pending().map((e) => e.counter))
    for (const c of this.unsure) {
      if (queued.has(c) && !this.sentCounters.has(c)) void this.resealAndSend(c)
    }
    this.unsure.clear()
    this.pump()
  }

  /** The relay stored the envelope of `ref` at `seq`; false if `ref` is not an envelope. */
  ack(ref: number, seq: number): boolean {
    const p = this.inflight.get(ref)
    if (p === undefined) return false
    this.inflight.delete(ref)
    this.sentCounters.delete(p.counter)
    this.retryBackoff.reset()
    this.host.binding.acknowledge(p.counter, seq)
    this.host.afterSeq()
    this.pump()
    return true
  }

  /**
   * The relay refused the envelope of `ref` with `code`. Resolves undefined if `ref` is not an
   * envelope, true if the refusal is handled here, false if it is to be reported as an error.
   */
  async reject(ref: number, code: string): Promise<boolean | undefined> {
    const p = this.inflight.get(ref)
    if (p === undefined) return undefined
    this.inflight.delete(ref)
    this.sentCounters.delete(p.counter)
    if (code === 'stale') {
      // Sent for the first time, so not stored by us: another session of this author used
      // the counter; seal again under a fresh one.
      if (p.first) {
        await this.resealAndSend(p.counter)
        return true
      }
      // Sent before: it may be stored. Resealing it could store it twice; read the log again.
      this.unsure.add(p.counter)
      this.host.resync()
      return true
    }
    // Not subscribed (raced a resync): it stays queued; send again now or after `synced`.
    if (code === 'not-subscribed') {
      const e = this.host.binding.pending().find((q) => q.counter === p.counter)
      if (e !== undefined && this.host.isSynced()) this.sendEnvelope(e)
      return true
    }
    // The relay's storage failed (or it wants an earlier counter first): it stays queued and
    // the whole queue is resent, in counter order, after a backoff; no reconnect needed.
    if (code === 'storage-failed') this.retryLater()
    return false
  }

  /** The socket is gone: nothing is in flight any more; the queue goes again after `synced`. */
  reset(): void {
    this.sentCounters.clear()
    this.inflight.clear()
  }

  /** Stop the retry timer. */
  destroy(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
  }

  private async resealAndSend(counter: number): Promise<void> {
    const fresh = await this.host.binding.reseal(counter)
    if (fresh !== undefined) this.sendEnvelope(fresh)
  }

  private retryLater(): void {
    if (this.retryTimer !== undefined) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      // Envelopes that failed were handed out, so the binding sends them as they are.
      this.pump()
    }, this.retryBackoff.next())
  }

  private sendUnsent(): void {
    // A merge in progress may drop some of the queue: it sends when it is done.
    if (!this.host.isSynced() || this.coalescing) return
    for (const e of this.host.binding.pending()) {
      if (this.sentCounters.size >= this.maxInFlight) return
      this.sendEnvelope(e)
    }
  }

  private sendEnvelope(e: QueuedEnvelope): void {
    if (this.sentCounters.has(e.counter) || !this.host.isOpen()) return
    const ref = this.host.nextRef()
    const first = this.host.binding.markSent(e.counter) === 1
    this.inflight.set(ref, { counter: e.counter, first })
    this.sentCounters.add(e.counter)
    this.host.send({ type: 'envelope', docId: this.host.binding.docId, ref, envelope: e.sealed })
  }
}
