import * as Y from 'yjs'
import { ClientIds } from './client-ids.js'
import { type Heads, raise } from './heads.js'
import { encodeSnapshotBody } from './snapshot.js'

/** The snapshot a client builds on: the newest one it trusts and holds the state of. */
export interface Base {
  /** Last relay sequence number it covers (0 = the empty document). */
  readonly upToSeq: number
  /** Its id (32 zero bytes for the empty document). */
  readonly id: Uint8Array
  /** Its `Y.encodeStateAsUpdateV2` state (empty for the empty document). */
  readonly state: Uint8Array
  /** Per-author counters it covers. */
  readonly counters: Heads
  /** Yjs client id bindings up to `upToSeq` (see `ClientIds`; none = empty). */
  readonly clientIds?: ClientIds
}

interface Covered {
  readonly author: string
  readonly counter: number
  readonly update: Uint8Array
  /** Yjs client ids the update inserts under (bound to `author` in log order). */
  readonly clients: Iterable<number>
}

/**
 * What a client needs to build or check a snapshot: its base and the plaintext of every relay
 * update applied after it, by sequence number. A snapshot's body is
 * `encodeSnapshotBody({ gc, counters, state })` of a fresh `Y.Doc({ gc })` to which the base state
 * and then each covered update are applied in sequence order — a pure function of what it
 * covers, so two members holding the same updates compute the same bytes and a forged
 * snapshot is caught by comparison. Sequence numbers below the client's start (it resumed
 * from local state) were never recorded, so such a client has no base until it adopts a
 * snapshot that covers them.
 */
export class Compaction {
  private current: Base | undefined
  private readonly covered = new Map<number, Covered>()
  /** Updates up to here were not recorded (applied in an earlier session, or given up). */
  private startSeq: number

  /**
   * `startSeq`: the relay sequence number the client had already applied when it started.
   * `maxCovered`: updates held at most; beyond, the client gives up its base (bounded memory).
   */
  constructor(
    startSeq: number,
    private readonly maxCovered = 20_000,
  ) {
    this.startSeq = startSeq
    if (startSeq === 0) {
      this.current = {
        upToSeq: 0,
        id: new Uint8Array(32),
        state: new Uint8Array(),
        counters: new Map(),
        clientIds: new ClientIds(),
      }
    }
  }

  /** The base, if this client holds every update since one. */
  get base(): Base | undefined {
    return this.current
  }

  /** An update applied from the relay (or acknowledged by it) at `seq`. */
  record(
    seq: number,
    author: string,
    counter: number,
    update: Uint8Array,
    clients: Iterable<number> = [],
  ): void {
    if (seq <= (this.current?.upToSeq ?? this.startSeq)) return
    this.covered.set(seq, { author, counter, update, clients })
    if (this.covered.size > this.maxCovered) {
      // No snapshot for this long: stop holding updates until one covering them is adopted.
      this.startSeq = Math.max(...this.covered.keys())
      this.current = undefined
      this.covered.clear()
    }
  }

  /** Build on `base` from now on (its updates are dropped); ignored unless it is newer. */
  adopt(base: Base): void {
    if (this.current !== undefined && base.upToSeq <= this.current.upToSeq) return
    // Updates between `startSeq` and `base` may be missing; after it, every one was recorded.
    this.current = base.upToSeq >= this.startSeq ? base : undefined
    for (const seq of this.covered.keys()) if (seq <= base.upToSeq) this.covered.delete(seq)
  }

  /** The body of the snapshot covering up to `upToSeq` (which the caller has applied). */
  build(
    upToSeq: number,
    gc: boolean,
  ): { body: Uint8Array; state: Uint8Array; counters: Heads; clientIds: ClientIds } | undefined {
    const base = this.current
    if (base === undefined || upToSeq <= base.upToSeq) return undefined
    const doc = new Y.Doc({ gc })
    if (base.state.length > 0) Y.applyUpdateV2(doc, base.state)
    const counters = new Map(base.counters)
    const clientIds = new ClientIds(base.clientIds?.entries() ?? [])
    for (let seq = base.upToSeq + 1; seq <= upToSeq; seq++) {
      const c = this.covered.get(seq)
      // Absent: refused on arrival (does not verify); every honest member skips it too.
      if (c === undefined) continue
      try {
        Y.applyUpdate(doc, c.update)
      } catch {
        continue
      }
      raise(counters, c.author, c.counter)
      clientIds.bind(c.author, c.clients)
    }
    const state = Y.encodeStateAsUpdateV2(doc)
    doc.destroy()
    const body = encodeSnapshotBody({ gc, counters, state, clientIds })
    return { body, state, counters, clientIds }
  }
}
