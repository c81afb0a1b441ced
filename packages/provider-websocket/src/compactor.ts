import type { EncryptedDoc } from '@valv/core'
import type { Frame } from '@valv/wire'

/** What the compactor needs from the document's sync. */
export interface CompactorHost {
  readonly binding: EncryptedDoc
  /** Whether the document is subscribed and caught up. */
  isSynced(): boolean
  /** A request reference unique among the document's requests. */
  nextRef(): number
  send(frame: Frame): void
  /** Read the log again from the last contiguous sequence number. */
  resync(): void
  fail(e: unknown): void
}

type Request =
  | { readonly kind: 'snapshot'; readonly upToSeq: number }
  | { readonly kind: 'confirm'; readonly upToSeq: number; readonly confirmation: Uint8Array }

/**
 * Client-side compaction: once `compactAfter` relay updates follow the last snapshot, a writer
 * uploads a signed snapshot (compare-and-swap on the relay's base); a snapshot another member
 * uploaded is checked against what it covers and confirmed to the relay.
 */
export class Compactor {
  private readonly requests = new Map<number, Request>()
  private compacting = false
  /** No compaction before this sequence number (after one was sent, refused or impossible). */
  private compactAt = 0

  constructor(
    private readonly host: CompactorHost,
    private readonly compactAfter: number,
  ) {}

  /** The log grew: upload a snapshot if enough updates follow the last one. */
  check(): void {
    const b = this.host.binding
    const last = b.lastSeq
    const tail = last - b.snapshotSeq
    if (this.compactAfter > 0 && tail >= this.compactAfter && last >= this.compactAt) {
      if (!this.compacting && b.crypto.canWrite()) void this.compact()
    }
  }

  /** Check a pending snapshot; confirm it to the relay if it matches what it covers. */
  async review(sealed: Uint8Array, upToSeq: number): Promise<void> {
    const b = this.host.binding
    const confirmation = await b.reviewSnapshot(sealed, upToSeq)
    if (confirmation === undefined) return
    const ref = this.host.nextRef()
    this.requests.set(ref, { kind: 'confirm', upToSeq, confirmation })
    this.host.send({ type: 'snapshot-confirm', docId: b.docId, ref, upToSeq, confirmation })
  }

  /** The relay stored the request of `ref`; false if `ref` is not one of the compactor's. */
  ack(ref: number): boolean {
    const p = this.requests.get(ref)
    if (p === undefined) return false
    this.requests.delete(ref)
    if (p.kind === 'snapshot') {
      // Stored; it becomes the base once confirmed (a `snapshot-confirm` frame).
      this.compacting = false
    } else {
      void this.host.binding
        .confirmationReceived(p.upToSeq, p.confirmation)
        .catch((e) => this.host.fail(e))
    }
    return true
  }

  /**
   * The relay refused the request of `ref` with `code`: undefined if `ref` is not one of the
   * compactor's, true if the refusal is handled here, false if it is to be reported.
   */
  reject(ref: number, code: string): boolean | undefined {
    const p = this.requests.get(ref)
    if (p === undefined) return undefined
    this.requests.delete(ref)
    if (p.kind === 'snapshot') {
      this.compacting = false
      // Lost the compare-and-swap: the base moved. Re-subscribing serves the new base (the
      // relay sends it to clients whose snapshotSeq is older); compaction resumes from it.
      if (code === 'snapshot-conflict') this.host.resync()
      return false
    }
    // Another writer confirmed first, or a newer snapshot replaced it: nothing to do.
    return code === 'snapshot-conflict'
  }

  /** The socket is gone: no request is answered any more. */
  reset(): void {
    this.compacting = false
    this.requests.clear()
  }

  private async compact(): Promise<void> {
    const b = this.host.binding
    this.compacting = true
    // Whatever happens, the next attempt waits for `compactAfter` more updates.
    this.compactAt = b.lastSeq + this.compactAfter
    try {
      const s = await b.createSnapshot()
      if (!this.host.isSynced()) {
        this.compacting = false
        return
      }
      const ref = this.host.nextRef()
      this.requests.set(ref, { kind: 'snapshot', upToSeq: s.upToSeq })
      this.host.send({
        type: 'snapshot-upload',
        docId: b.docId,
        ref,
        prevSeq: s.prevSeq,
        upToSeq: s.upToSeq,
        snapshot: s.sealed,
      })
    } catch (e) {
      this.compacting = false
      // No base held (resumed from local state): it compacts after the next confirmed one.
      if ((e as { code?: string }).code !== 'cannot-compact') this.host.fail(e)
    }
  }
}
