/**
 * The sequence numbers of a document's most recent writes by author and counter, so a client
 * that resends an envelope the relay already stored (its ack was lost) gets the same ack again
 * instead of `stale`. Bounded: the oldest entries are forgotten first.
 */
export class RecentWrites {
  private readonly seqs = new Map<string, number>()

  constructor(private readonly capacity: number) {}

  /** Remember that `author`'s `counter` was stored as `seq`. */
  add(author: string, counter: number, seq: number): void {
    if (this.capacity <= 0) return
    this.seqs.set(`${counter}:${author}`, seq)
    if (this.seqs.size > this.capacity) this.seqs.delete(this.seqs.keys().next().value as string)
  }

  /** The sequence number `author`'s `counter` was stored as, if still remembered. */
  seqOf(author: string, counter: number): number | undefined {
    return this.seqs.get(`${counter}:${author}`)
  }
}
