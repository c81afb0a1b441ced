import type { DocLog, StoredSnapshot } from './doc-log.js'
import { RecentWrites } from './recent-writes.js'
import type { Session } from './session.js'
import type { EnvelopeVerifier } from './verifier.js'

/** In-memory state of one open document. Writes run one at a time through {@link Doc.exclusive}. */
export class Doc {
  headSeq = 0
  /** The confirmed snapshot: the base; the log holds only what follows it. */
  snapshot: StoredSnapshot | undefined
  /** A newer snapshot waiting for a second writer's confirmation; covers log entries kept. */
  unconfirmed: StoredSnapshot | undefined
  membership: Uint8Array[] = []
  /** Number of the newest snapshot claim in the store (0: none); the next change claims +1. */
  claim = 0
  readonly counters = new Map<string, number>()
  readonly subscribers = new Set<Session>()
  /** Recent writes by author and counter (idempotent retry). */
  recent: RecentWrites
  /**
   * A write failed in storage: what is durable may differ from this memory (a write may have
   * landed after all), so the state is reloaded from storage before the next write.
   */
  reload = false
  private tail: Promise<unknown> = Promise.resolve()
  private pending = 0

  constructor(
    readonly log: DocLog,
    private readonly retryWindow: number,
  ) {
    this.recent = new RecentWrites(retryWindow)
  }

  get id(): string {
    return this.log.docId
  }

  /**
   * Read this document's state from storage (membership, snapshot, head, per-author counters,
   * recent writes); returns the bytes it holds. Applied only once everything was read, so a
   * failed reload leaves the old state in place. Run it under {@link Doc.exclusive}.
   */
  async load(verifier: EnvelopeVerifier): Promise<number> {
    const membership = await this.log.readMembers()
    // The claim before the base: a claim is written before the base it promotes, so a base
    // read afterwards is at least as new as the claim's.
    const claim = await this.log.readClaim()
    let snapshot = await this.log.readSnapshot()
    if (claim?.kind === 'base' && claim.snapshot.upToSeq > (snapshot?.upToSeq ?? 0)) {
      // The node that won the promotion died (or is still busy) before storing the base: the
      // claim decided it, so store it here (the same bytes: idempotent), then compact.
      await this.log.replaceSnapshot(claim.snapshot)
      snapshot = claim.snapshot
    }
    const baseSeq = snapshot?.upToSeq ?? 0
    const unconfirmed = claim
      ? claim.kind === 'pending' &&
        claim.snapshot.prevSeq === baseSeq &&
        claim.snapshot.upToSeq > baseSeq
        ? claim.snapshot
        : undefined
      : await this.log.readPending(baseSeq)
    let headSeq = 0
    let stored = membership.reduce((n, e) => n + e.length, 0) + (unconfirmed?.bytes.length ?? 0)
    const counters = new Map<string, number>()
    if (snapshot) {
      headSeq = snapshot.upToSeq
      for (const [a, c] of snapshot.counters) counters.set(a, c)
      stored += snapshot.bytes.length
    }
    const recent = new RecentWrites(this.retryWindow)
    for await (const { seq, envelope } of this.log.readUpdates(headSeq)) {
      const { author, counter } = verifier.peekUpdate(envelope)
      counters.set(author, Math.max(counter, counters.get(author) ?? 0))
      recent.add(author, counter, seq)
      headSeq = seq
      stored += envelope.length
    }
    this.membership = membership
    this.snapshot = snapshot
    this.unconfirmed = unconfirmed
    this.claim = claim?.n ?? 0
    this.headSeq = headSeq
    this.counters.clear()
    for (const [a, c] of counters) this.counters.set(a, c)
    this.recent = recent
    this.reload = false
    return stored
  }

  /** Whether no operation is queued (safe to evict once there are no subscribers either). */
  get idle(): boolean {
    return this.pending === 0
  }

  /** Run `fn` after every earlier operation on this document settled. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.pending++
    const run = this.tail.then(fn)
    this.tail = run.then(
      () => this.pending--,
      () => this.pending--,
    )
    return run
  }
}
