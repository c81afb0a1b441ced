import type { DocLog, StoredSnapshot } from './doc-log.js'
import { RecentWrites } from './recent-writes.js'
import type { Session } from './session.js'

/** In-memory state of one open document. Writes run one at a time through {@link Doc.exclusive}. */
export class Doc {
  headSeq = 0
  snapshot: StoredSnapshot | undefined
  membership: Uint8Array[] = []
  readonly counters = new Map<string, number>()
  readonly subscribers = new Set<Session>()
  /** Recent writes by author and counter (idempotent retry). */
  readonly recent: RecentWrites
  /**
   * A write failed in storage: what is durable may differ from this memory (a write may have
   * landed after all), so the state is reloaded from storage before the next write.
   */
  reload = false
  private tail: Promise<unknown> = Promise.resolve()
  private pending = 0

  constructor(
    readonly log: DocLog,
    retryWindow: number,
  ) {
    this.recent = new RecentWrites(retryWindow)
  }

  get id(): string {
    return this.log.docId
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
