import type { ObservableV2 } from 'lib0/observable'
import type * as Y from 'yjs'
import { snapshotRollback } from './checkpoint.js'
import { ClientIds } from './client-ids.js'
import { Compaction } from './compaction.js'
import type { DocumentCrypto } from './crypto-seam.js'
import type { EncryptedDocEvents } from './encrypted-doc.js'
import { CoreError } from './errors.js'
import type { Heads } from './heads.js'
import type { LogPosition } from './log-position.js'
import type { RemoteApplier } from './remote-update.js'
import { type ConfirmedBase, SnapshotReview } from './snapshot-review.js'

/** What {@link SnapshotSync} needs from its binding. */
export interface SnapshotSyncDeps {
  readonly doc: Y.Doc
  readonly crypto: DocumentCrypto
  readonly position: LogPosition
  readonly applier: RemoteApplier
  /** Something the local checkpoint holds changed. */
  readonly changed: () => void
  /** Where `rejected` and `misbehaviour` are reported: the binding. */
  readonly events: ObservableV2<EncryptedDocEvents>
}

/**
 * The binding's side of relay snapshots: it builds compaction snapshots on its base (see
 * {@link Compaction}), applies the relay's confirmed base after checking it against the local
 * checkpoint, and adopts a base once a second writer confirmed it ({@link SnapshotReview}
 * decides which confirmations count). Each adopted base moves the checkpoint. Callers serialize
 * its asynchronous methods with every other sealing and opening of the binding.
 */
export class SnapshotSync {
  /** The base and the relay updates applied after it: what the next snapshot covers. */
  private compaction = new Compaction(0)
  private readonly reviewer: SnapshotReview

  constructor(private readonly deps: SnapshotSyncDeps) {
    this.reviewer = new SnapshotReview({
      crypto: deps.crypto,
      compaction: () => this.compaction,
      lastSeq: () => deps.position.lastSeq,
      misbehaviour: (m) => deps.events.emit('misbehaviour', [m]),
    })
  }

  /** Updates below `lastSeq` were applied in an earlier session and are not held. */
  restart(lastSeq: number): void {
    this.compaction = new Compaction(lastSeq)
  }

  /** A relay update (applied, or acknowledged as local) for the next snapshot to cover. */
  record(
    seq: number,
    author: string,
    counter: number,
    update: Uint8Array,
    clients: Iterable<number>,
  ): void {
    this.compaction.record(seq, author, counter, update, clients)
  }

  /** See `EncryptedDoc.createSnapshot`. */
  async create(): Promise<{ sealed: Uint8Array; upToSeq: number; prevSeq: number }> {
    if (!this.deps.crypto.canWrite()) throw new CoreError('not-a-writer', 'only writers snapshot')
    const base = this.compaction.base
    const upToSeq = this.deps.position.lastSeq
    const built = this.compaction.build(upToSeq, this.deps.doc.gc)
    if (base === undefined || built === undefined) {
      throw new CoreError('cannot-compact', 'no new updates on a base this client holds')
    }
    const position = { upToSeq, prevSeq: base.upToSeq, prev: base.id }
    const sealed = await this.deps.crypto.seal('snapshot', built.body, 0, position)
    await this.reviewer.own(sealed, built)
    return { sealed, upToSeq, prevSeq: base.upToSeq }
  }

  /** See `EncryptedDoc.snapshotStored`. */
  async stored(sealed: Uint8Array): Promise<void> {
    this.adopt(await this.reviewer.ownConfirmed(sealed))
  }

  /** See `EncryptedDoc.reviewSnapshot`. */
  review(sealed: Uint8Array, upToSeq: number): Promise<Uint8Array | undefined> {
    return this.reviewer.review(sealed, upToSeq)
  }

  /** See `EncryptedDoc.confirmationReceived`. */
  async confirmed(upToSeq: number, confirmation: Uint8Array): Promise<boolean> {
    return this.adopt(await this.reviewer.confirmed(upToSeq, confirmation))
  }

  /** See `EncryptedDoc.receiveSnapshot`. */
  async receive(
    sealed: Uint8Array,
    upToSeq: number,
    origin: object,
    confirmation: Uint8Array,
  ): Promise<boolean> {
    const { position } = this.deps
    let s: Awaited<ReturnType<SnapshotReview['openBase']>>
    try {
      s = await this.reviewer.openBase(sealed, upToSeq, confirmation)
    } catch (error) {
      this.deps.events.emit('rejected', [{ kind: 'snapshot', error }])
      this.deps.events.emit('misbehaviour', [
        { kind: 'invalid', message: 'relay served a snapshot that does not verify', seq: upToSeq },
      ])
      return false
    }
    if (s === undefined) return false
    const why = snapshotRollback(
      position.checkpoint,
      { ...s.position, prevProof: s.position.prev, counters: s.body.counters },
      s.position.id,
    )
    if (why !== undefined) {
      const kind = why.includes('fork') || why.includes('chain') ? 'fork' : 'rollback'
      this.deps.events.emit('misbehaviour', [{ kind, message: why, seq: upToSeq }])
      return false
    }
    const outcome = this.deps.applier.apply(s.body.state, origin, true)
    if (!outcome.applied) {
      this.deps.events.emit('rejected', [{ kind: 'snapshot', error: outcome.error }])
      return false
    }
    if (s.body.clientIds !== undefined) {
      for (const id of position.clientIds.merge(s.body.clientIds)) {
        this.deps.events.emit('misbehaviour', [
          {
            kind: 'fork',
            message: 'snapshot binds a Yjs client id to another author than the log did',
            clientId: id,
            seq: upToSeq,
          },
        ])
      }
    }
    for (const [a, c] of s.body.counters) position.count(a, c, upToSeq)
    this.adoptBase(
      s.position.upToSeq,
      s.position.id,
      s.body.state,
      s.body.counters,
      s.body.clientIds,
    )
    return true
  }

  /** Make a confirmed snapshot the base, unless it is older than the accepted one. */
  private adopt(c: ConfirmedBase | undefined): boolean {
    if (c === undefined || c.upToSeq < this.deps.position.snapshotSeq) return false
    this.adoptBase(c.upToSeq, c.id, c.state, c.counters, c.clientIds)
    return true
  }

  private adoptBase(
    upToSeq: number,
    id: Uint8Array,
    state: Uint8Array,
    counters: Heads,
    clientIds: ClientIds | undefined,
  ): void {
    this.compaction.adopt({ upToSeq, id, state, counters, clientIds: clientIds ?? new ClientIds() })
    this.deps.position.acceptSnapshot(upToSeq, id, counters)
    this.deps.changed()
  }
}
