import { type Checkpoint, emptyCheckpoint, encodeCheckpoint } from './checkpoint.js'
import type { ClientIds } from './client-ids.js'
import { type Heads, raise } from './heads.js'
import type { Misbehaviour } from './misbehaviour.js'

/**
 * How far a client has come through the relay's log: the checkpoint (contiguous sequence
 * number, accepted snapshot, Yjs client id bindings), per-author heads with the sequence number
 * each was reached at, and the sequence numbers received above a gap. The checkpoint is what a
 * later session checks the relay against (rollback); the heads are what a member's signed heads
 * are compared with (withholding) and what tells a replayed counter from a fresh one.
 */
export class LogPosition {
  private cp: Checkpoint = emptyCheckpoint()
  private heads: Heads = new Map()
  /** Sequence number at which each author's head was reached: a later copy is a replay. */
  private readonly headSeqs = new Map<string, number>()
  /** Received sequence numbers above `lastSeq` (a gap below them): a resync is needed. */
  private readonly ahead = new Set<number>()

  constructor(private readonly misbehaviour: (m: Misbehaviour) => void) {}

  /** The checkpoint as it stands (its `heads` and `counter` are filled in by {@link encode}). */
  get checkpoint(): Checkpoint {
    return this.cp
  }

  /** Highest contiguous relay sequence number applied. */
  get lastSeq(): number {
    return this.cp.lastSeq
  }

  /** `upToSeq` of the newest snapshot accepted. */
  get snapshotSeq(): number {
    return this.cp.snapshotSeq
  }

  /** Whether some sequence numbers above {@link lastSeq} were skipped. */
  get hasGap(): boolean {
    return this.ahead.size > 0
  }

  /** Yjs client id bindings learned so far (mutated in place as updates bind ids). */
  get clientIds(): ClientIds {
    return this.cp.clientIds
  }

  /** Per-author counters of everything applied from the relay (a copy). */
  relayHeads(): Heads {
    return new Map(this.heads)
  }

  /** Resume from the checkpoint an earlier session saved. */
  restore(cp: Checkpoint): void {
    this.cp = cp
    this.heads = new Map(cp.heads)
    // Where within the log each head was reached is not saved: at most at lastSeq.
    for (const a of this.heads.keys()) this.headSeqs.set(a, cp.lastSeq)
  }

  /** Whether `seq` was already received. */
  has(seq: number): boolean {
    return seq <= this.cp.lastSeq || this.ahead.has(seq)
  }

  /** Whether `author`'s `counter`, delivered as `seq`, was already delivered at a lower one. */
  replayed(author: string, counter: number, seq: number): boolean {
    const known = this.heads.get(author) ?? 0
    return counter <= known && seq > (this.headSeqs.get(author) ?? 0)
  }

  /** `author`'s `counter` arrived as `seq` (or a snapshot covering `seq` counts it). */
  count(author: string, counter: number, seq: number): void {
    if (raise(this.heads, author, counter)) this.headSeqs.set(author, seq)
  }

  /** `seq` is received; `lastSeq` moves over every sequence number now contiguous. */
  mark(seq: number): void {
    if (seq > this.cp.lastSeq) this.ahead.add(seq)
    let last = this.cp.lastSeq
    while (this.ahead.delete(last + 1)) last++
    if (last !== this.cp.lastSeq) this.cp = { ...this.cp, lastSeq: last }
  }

  /** A snapshot covering `upToSeq` (with `proof` and `counters`) became the base. */
  acceptSnapshot(upToSeq: number, proof: Uint8Array, counters: Heads): void {
    const lastSeq = Math.max(this.cp.lastSeq, upToSeq)
    for (const s of this.ahead) if (s <= lastSeq) this.ahead.delete(s)
    this.cp = { ...this.cp, snapshotSeq: upToSeq, snapshotProof: proof, snapshotCounters: counters }
    this.cp = { ...this.cp, lastSeq }
    // Sequence numbers just above the snapshot may already have arrived.
    this.mark(lastSeq)
  }

  /**
   * Compare the relay's head sequence number with the checkpoint; a shorter log than already
   * seen is a rollback. Returns false (and reports it) in that case.
   */
  checkHead(headSeq: number): boolean {
    if (headSeq >= this.cp.lastSeq) return true
    this.misbehaviour({
      kind: 'rollback',
      message: `relay log ends at ${headSeq}, checkpoint has ${this.cp.lastSeq}`,
      seq: headSeq,
    })
    return false
  }

  /**
   * Bind the client ids of an acknowledged local envelope (sequence `seq`) to `me`; false if
   * readers refuse it (an id was bound to another member first, or too many ids).
   */
  bindOwn(me: string, clients: number[], seq: number): boolean {
    const refused = this.cp.clientIds.refuse(me, clients)
    if (typeof refused === 'number') {
      // Someone bound our id first: readers refuse this envelope; Yjs already gave this
      // document a new client id when it applied the squatter's update.
      this.misbehaviour({
        kind: 'impersonation',
        message: `Yjs client id ${refused} of this client was bound to another member first`,
        author: this.cp.clientIds.owner(refused) as string,
        clientId: refused,
        seq,
      })
      return false
    }
    if (refused !== undefined) return false
    this.cp.clientIds.bind(me, clients)
    return true
  }

  /** The checkpoint to save, with the current heads and the local author's last `counter`. */
  encode(counter: number): Uint8Array {
    return encodeCheckpoint({ ...this.cp, heads: this.relayHeads(), counter })
  }
}
