import type { StorageAdapter } from '@valv/storage'
import { ObservableV2 } from 'lib0/observable'
import * as Y from 'yjs'
import { Batcher, type BatchOptions } from './batcher.js'
import {
  type Checkpoint,
  emptyCheckpoint,
  encodeCheckpoint,
  snapshotRollback,
} from './checkpoint.js'
import { ClientIds, updateClients } from './client-ids.js'
import { coalesceUpdates } from './coalesce.js'
import { Compaction } from './compaction.js'
import type { DocumentCrypto, SealKind } from './crypto-seam.js'
import { CoreError } from './errors.js'
import { type Heads, raise } from './heads.js'
import { LocalCache } from './local-cache.js'
import { LocalStore, type QueuedEnvelope } from './local-store.js'
import { invalidUpdate, type Misbehaviour } from './misbehaviour.js'
import { applyContained, inspectUpdate } from './remote-update.js'
import { equalBytes } from './snapshot.js'
import { SnapshotReview } from './snapshot-review.js'

/** Options of {@link EncryptedDoc}. */
export interface EncryptedDocOptions {
  /** The document to bind. */
  readonly doc: Y.Doc
  /** Relay document id (1–200 chars of `[A-Za-z0-9._~-]`), also the local storage prefix. */
  readonly docId: string
  /** Sealing and opening (see {@link DocumentCrypto}). */
  readonly crypto: DocumentCrypto
  /** Local persistence (offline queue, state cache, checkpoint); none = memory only. */
  readonly storage?: StorageAdapter
  /** Batching of local updates. */
  readonly batch?: BatchOptions
  /** Debounce of the local state cache and checkpoint writes in ms (default 300). */
  readonly saveMs?: number
  /**
   * Appended update chunks after which a save rewrites the whole state instead (default 64).
   * Between compactions a save seals only what changed since the last one.
   */
  readonly compactLocalAfter?: number
}

/** Events of {@link EncryptedDoc}. */
export interface EncryptedDocEvents {
  /** A local batch was sealed and queued; transports send it. */
  envelope: (e: QueuedEnvelope) => void
  /** A remote message failed verification and was not applied. */
  rejected: (e: { kind: SealKind; error: unknown }) => void
  /** The relay (or a peer) misbehaved; see {@link Misbehaviour}. */
  misbehaviour: (m: Misbehaviour) => void
  /** The number of unacknowledged local changes changed. */
  unsynced: (count: number) => void
  /**
   * An asynchronous failure (storage, sealing), or an application observer that threw while a
   * remote update was applied (`CoreError` `observer-threw`; the update still counts as applied).
   */
  error: (e: unknown) => void
}

/** What {@link EncryptedDoc.receiveUpdate} did with a delivered envelope. */
export type ReceiveResult = 'applied' | 'duplicate' | 'rejected'

const DOC_ID = /^[A-Za-z0-9._~-]{1,200}$/

/**
 * Binds a `Y.Doc` to end-to-end encryption: local updates are batched, sealed, queued
 * (persisted) and announced through the `envelope` event; remote envelopes are opened
 * (verified, then decrypted) BEFORE they touch the document and applied with the transport as
 * transaction origin, so they are never echoed. It also keeps the signed checkpoint used to
 * reject rollbacks. Transports (`@valv/provider-websocket`, `@valv/provider-broadcast`) share
 * one binding per document.
 *
 * @example
 * ```ts
 * const binding = new EncryptedDoc({ doc, docId: session.docId, crypto: session, storage })
 * await binding.ready
 * binding.on('envelope', (e) => socket.send(e.sealed))
 * ```
 */
export class EncryptedDoc extends ObservableV2<EncryptedDocEvents> {
  /** The bound document. */
  readonly doc: Y.Doc
  /** The document id. */
  readonly docId: string
  /** The crypto seam. */
  readonly crypto: DocumentCrypto
  /** Resolves once local state (cache, queue, checkpoint) is loaded and applied. */
  readonly ready: Promise<void>

  private readonly store: LocalStore | undefined
  private readonly cache: LocalCache | undefined
  private readonly batcher: Batcher
  private readonly remoteOrigins = new WeakSet<object>()
  private readonly queue = new Map<number, QueuedEnvelope>()
  /** Plaintext of queued envelopes: recorded for compaction once acknowledged. */
  private readonly plain = new Map<number, Uint8Array>()
  private compaction = new Compaction(0)
  private readonly review: SnapshotReview
  private cp: Checkpoint = emptyCheckpoint()
  private heads: Heads = new Map()
  private readonly headSeqs = new Map<string, number>()
  private readonly ahead = new Set<number>()
  /**
   * How often each queued envelope was handed to a transport ({@link markSent}). One handed out
   * may be stored even without an ack (the ack, or the connection, was lost), so it is never
   * merged into another envelope: that copy would be stored a second time.
   */
  private readonly sends = new Map<number, number>()
  /** Yjs client ids each queued local envelope carries: bound to the local author on ack. */
  private readonly queuedClients = new Map<number, number[]>()
  private counter = 0
  /** Batches handed to sealing but not yet queued: still unsynced while crypto runs. */
  private sealing = 0
  private held: Uint8Array[] = []
  private chain: Promise<unknown> = Promise.resolve()
  private saveTimer: ReturnType<typeof setTimeout> | undefined
  private readonly saveMs: number
  private destroyed = false
  private readonly unwatch: (() => void) | undefined

  /** Bind `options.doc`; await {@link ready} before connecting transports. */
  constructor(options: EncryptedDocOptions) {
    super()
    if (!DOC_ID.test(options.docId)) {
      throw new CoreError('invalid-argument', 'docId must be 1-200 chars of [A-Za-z0-9._~-]')
    }
    this.doc = options.doc
    this.docId = options.docId
    this.crypto = options.crypto
    this.saveMs = options.saveMs ?? 300
    this.store = options.storage ? new LocalStore(options.storage, options.docId) : undefined
    this.cache =
      this.store && new LocalCache(this.store, this.crypto, options.compactLocalAfter ?? 64)
    this.remoteOrigins.add(this)
    this.batcher = new Batcher(this.doc, (u) => this.sealLocal(u), options.batch)
    this.doc.on('update', this.onUpdate)
    if (this.store !== undefined) this.doc.on('update', this.onAnyUpdate)
    this.review = new SnapshotReview({
      crypto: this.crypto,
      compaction: () => this.compaction,
      lastSeq: () => this.cp.lastSeq,
      misbehaviour: (m) => this.emit('misbehaviour', [m]),
    })
    // Edits held back while not a writer go out as soon as the membership allows it.
    this.unwatch = this.crypto.onChange?.(() => this.retryHeld())
    this.ready = this.serial(() => this.load())
  }

  /** Mark `origin` as a transport: updates applied with it as origin are not sent again. */
  registerOrigin(origin: object): void {
    this.remoteOrigins.add(origin)
  }

  /** Sealed local batches not yet acknowledged by the relay, oldest first. */
  pending(): QueuedEnvelope[] {
    return [...this.queue.values()].sort((a, b) => a.counter - b.counter)
  }

  /**
   * Local changes not yet acknowledged: queued envelopes, batches being sealed, edits held back
   * (not a writer yet) and the open batch window. It reaches 0 only when the relay has made
   * every local change durable.
   */
  get unsynced(): number {
    const held = this.held.length > 0 ? 1 : 0
    return this.queue.size + this.sealing + held + (this.batcher.size > 0 ? 1 : 0)
  }

  /** Highest contiguous relay sequence number applied. */
  get lastSeq(): number {
    return this.cp.lastSeq
  }

  /** `upToSeq` of the newest snapshot accepted. */
  get snapshotSeq(): number {
    return this.cp.snapshotSeq
  }

  /** Whether some sequence numbers above {@link lastSeq} were skipped (resync needed). */
  get hasGap(): boolean {
    return this.ahead.size > 0
  }

  /** Per-author counters of everything applied from the relay (a copy). */
  relayHeads(): Heads {
    return new Map(this.heads)
  }

  /** Close the batch window now and wait until every local change is sealed and queued. */
  flush(): Promise<void> {
    this.batcher.drain()
    return this.serial(async () => undefined)
  }

  /** The relay made the envelope `counter` durable as sequence number `seq`. */
  acknowledge(counter: number, seq: number): void {
    const e = this.queue.get(counter)
    if (e === undefined) return
    this.queue.delete(counter)
    this.sends.delete(counter)
    const plain = this.plain.get(counter)
    this.plain.delete(counter)
    if (raise(this.heads, this.crypto.author, counter)) this.headSeqs.set(this.crypto.author, seq)
    const clients = this.queuedClients.get(counter) ?? []
    this.queuedClients.delete(counter)
    // Readers refuse an envelope whose ids were bound to someone else: so do snapshots.
    if (this.bindOwn(clients, seq) && plain !== undefined) {
      this.compaction.record(seq, this.crypto.author, counter, plain, clients)
    }
    this.markSeq(seq)
    this.store?.dequeue(counter).catch((err) => this.emit('error', [err]))
    this.emit('unsynced', [this.unsynced])
    this.scheduleSave()
  }

  /**
   * A transport hands the queued envelope `counter` to the relay. From now on it may be stored
   * whatever the transport hears back, so {@link coalesce} leaves it alone and it is resealed
   * only once it is known not to be stored. Returns how often it was handed out, this time
   * included (an envelope loaded from local storage counts as handed out once already).
   */
  markSent(counter: number): number {
    if (!this.queue.has(counter)) return 0
    const n = (this.sends.get(counter) ?? 0) + 1
    this.sends.set(counter, n)
    return n
  }

  /**
   * The relay refused `counter` as stale (another session of the same author used it): seal
   * the same plaintext again under a fresh counter. Resolves with the new envelope. Call it
   * only for an envelope known not to be stored (see {@link markSent}), or the log holds the
   * update twice.
   */
  reseal(counter: number): Promise<QueuedEnvelope | undefined> {
    return this.serial(async () => {
      const old = this.queue.get(counter)
      if (old === undefined) return undefined
      const { plaintext } = await this.crypto.open('update', old.sealed)
      const next = this.nextCounter()
      const fresh = { counter: next, sealed: await this.crypto.seal('update', plaintext, next) }
      await this.store?.enqueue(fresh)
      await this.store?.dequeue(counter)
      this.queue.delete(counter)
      this.sends.delete(counter)
      this.queue.set(fresh.counter, fresh)
      this.queuedClients.set(fresh.counter, this.queuedClients.get(counter) ?? [])
      this.queuedClients.delete(counter)
      this.plain.delete(counter)
      this.plain.set(fresh.counter, plaintext)
      return fresh
    })
  }

  /**
   * Merge the queued envelopes `counters` into one sealed under a fresh counter, so a long
   * offline queue goes home as one envelope, as y-websocket sends one diff on reconnect. The
   * new envelope is stored before the old ones are dropped. Resolves with it, or undefined if
   * fewer than two of `counters` can be merged.
   *
   * Only envelopes never handed to a transport are merged ({@link markSent}); the others are
   * resent as they are. This is the binding's rule rather than the relay's (accepting a merged
   * envelope that supersedes counters it may or may not hold) because only the client knows
   * what it sent, and the relay's per-author counter order stays a plain freshness check.
   */
  coalesce(counters: readonly number[]): Promise<QueuedEnvelope | undefined> {
    return this.serial(async () => {
      const olds = counters.filter(
        (c) => this.queue.has(c) && this.plain.has(c) && !this.sends.has(c),
      )
      if (olds.length < 2) return undefined
      const update = coalesceUpdates(
        this.doc,
        olds.map((c) => this.plain.get(c) as Uint8Array),
      )
      const counter = this.nextCounter()
      const fresh = { counter, sealed: await this.crypto.seal('update', update, counter) }
      await this.store?.enqueue(fresh)
      const clients = new Set<number>()
      for (const c of olds) {
        for (const id of this.queuedClients.get(c) ?? []) clients.add(id)
        this.queue.delete(c)
        this.plain.delete(c)
        this.queuedClients.delete(c)
      }
      await Promise.all(olds.map((c) => this.store?.dequeue(c)))
      this.queue.set(counter, fresh)
      this.queuedClients.set(counter, [...clients])
      this.plain.set(counter, update)
      this.emit('unsynced', [this.unsynced])
      return fresh
    })
  }

  /**
   * Verify, decrypt and apply an envelope the relay delivered as `seq`. Nothing touches the
   * document unless the envelope opens, decodes as a Yjs update and carries insertions only
   * under Yjs client ids bound to its signer (see {@link ClientIds}); a delivery whose author
   * counter was already delivered at a lower sequence number raises `replay`. A refused
   * delivery still consumes `seq` (it is never asked for again) and raises `misbehaviour`.
   * An exception thrown by an application observer does not make the update missing: it is
   * applied, counted, and the error is emitted as `error` (`observer-threw`).
   */
  receiveUpdate(sealed: Uint8Array, seq: number, origin: object): Promise<ReceiveResult> {
    return this.serial(async () => {
      if (seq <= this.cp.lastSeq || this.ahead.has(seq)) return 'duplicate'
      let opened: Awaited<ReturnType<DocumentCrypto['open']>>
      try {
        opened = await this.crypto.open('update', sealed)
      } catch (error) {
        this.markSeq(seq)
        this.emit('rejected', [{ kind: 'update', error }])
        this.emit('misbehaviour', [invalidUpdate(error, seq)])
        return 'rejected'
      }
      const { author, counter } = opened
      const own = author === this.crypto.author ? this.queue.get(counter) : undefined
      if (own !== undefined && equalBytes(own.sealed, sealed)) {
        // Our queued envelope, stored though its ack was lost: this delivery acknowledges it.
        this.acknowledge(counter, seq)
        return 'applied'
      }
      const known = this.heads.get(author) ?? 0
      if (counter <= known && seq > (this.headSeqs.get(author) ?? 0)) {
        this.markSeq(seq)
        this.emit('misbehaviour', [
          { kind: 'replay', message: 'author counter delivered again', author, counter, seq },
        ])
        return 'rejected'
      }
      const ids = this.cp.clientIds
      let clients: Set<number>
      try {
        clients = inspectUpdate(this.doc, opened.plaintext)
      } catch (error) {
        return this.poisoned(seq, author, counter, error, 'update is not a valid Yjs update')
      }
      const refused = ids.refuse(author, clients)
      if (refused !== undefined) {
        const why =
          refused === 'too-many'
            ? 'update binds more Yjs client ids than an author may'
            : `update inserts under Yjs client id ${refused}, bound to another member`
        const error = new CoreError('malformed', why)
        return this.poisoned(seq, author, counter, error, why, refused)
      }
      this.remoteOrigins.add(origin)
      const outcome = applyContained(this.doc, opened.plaintext, origin)
      if (!outcome.applied) {
        return this.poisoned(seq, author, counter, outcome.error, 'update failed to integrate')
      }
      ids.bind(author, clients)
      this.compaction.record(seq, author, counter, opened.plaintext, clients)
      this.consumed(seq, author, counter)
      if (outcome.observerError !== undefined) this.observerThrew(outcome.observerError)
      return 'applied'
    })
  }

  /**
   * Verify, decrypt and apply a message that did not come through the relay log (a tab's
   * `update` or `state` over BroadcastChannel). Resolves false if it did not open.
   */
  receiveDirect(kind: 'update' | 'state', sealed: Uint8Array, origin: object): Promise<boolean> {
    return this.serial(async () => {
      try {
        const opened = await this.crypto.open(kind, sealed)
        const clients = inspectUpdate(this.doc, opened.plaintext)
        // A tab's `state` diff carries everyone's content; an `update` only its signer's.
        if (kind === 'update' && this.cp.clientIds.refuse(opened.author, clients) !== undefined) {
          throw new CoreError('malformed', 'update inserts under a client id bound to another')
        }
        this.remoteOrigins.add(origin)
        const outcome = applyContained(this.doc, opened.plaintext, origin)
        if (!outcome.applied) throw outcome.error
        if (outcome.observerError !== undefined) this.observerThrew(outcome.observerError)
        if (kind === 'update' && opened.author === this.crypto.author) {
          this.counter = Math.max(this.counter, opened.counter)
        }
        this.scheduleSave()
        return true
      } catch (error) {
        this.emit('rejected', [{ kind, error }])
        return false
      }
    })
  }

  /**
   * Open the relay's confirmed snapshot (its base) served as covering `upToSeq` with the
   * second writer's `confirmation` (empty: the author was the only writer), check it against
   * the local checkpoint (rollback, fork) and against what this client caught as forged, and
   * apply it. Resolves false if it was refused.
   */
  receiveSnapshot(
    sealed: Uint8Array,
    upToSeq: number,
    origin: object,
    confirmation: Uint8Array = new Uint8Array(),
  ): Promise<boolean> {
    return this.serial(async () => {
      let s: Awaited<ReturnType<SnapshotReview['openBase']>>
      try {
        s = await this.review.openBase(sealed, upToSeq, confirmation)
      } catch (error) {
        this.emit('rejected', [{ kind: 'snapshot', error }])
        this.emit('misbehaviour', [
          {
            kind: 'invalid',
            message: 'relay served a snapshot that does not verify',
            seq: upToSeq,
          },
        ])
        return false
      }
      if (s === undefined) return false
      const why = snapshotRollback(
        this.cp,
        { ...s.position, prevProof: s.position.prev, counters: s.body.counters },
        s.position.id,
      )
      if (why !== undefined) {
        const kind = why.includes('fork') || why.includes('chain') ? 'fork' : 'rollback'
        this.emit('misbehaviour', [{ kind, message: why, seq: upToSeq }])
        return false
      }
      this.remoteOrigins.add(origin)
      const outcome = applyContained(this.doc, s.body.state, origin, true)
      if (!outcome.applied) {
        this.emit('rejected', [{ kind: 'snapshot', error: outcome.error }])
        return false
      }
      if (outcome.observerError !== undefined) this.observerThrew(outcome.observerError)
      if (s.body.clientIds !== undefined) {
        for (const id of this.cp.clientIds.merge(s.body.clientIds)) {
          this.emit('misbehaviour', [
            {
              kind: 'fork',
              message: 'snapshot binds a Yjs client id to another author than the log did',
              clientId: id,
              seq: upToSeq,
            },
          ])
        }
      }
      for (const [a, c] of s.body.counters) {
        if (raise(this.heads, a, c)) this.headSeqs.set(a, upToSeq)
      }
      this.adoptBase(
        s.position.upToSeq,
        s.position.id,
        s.body.state,
        s.body.counters,
        s.body.clientIds,
      )
      return true
    })
  }

  /**
   * Check a snapshot the relay holds but no second writer confirmed yet: recompute it from the
   * covered updates (when this client holds them all) and raise `forged-snapshot` naming its
   * author if it differs. It is never applied: the relay still serves the updates it covers.
   * Resolves with a signed confirmation to send when it matched and this member may confirm.
   */
  reviewSnapshot(sealed: Uint8Array, upToSeq: number): Promise<Uint8Array | undefined> {
    return this.serial(() => this.review.review(sealed, upToSeq))
  }

  /**
   * The relay made its pending snapshot covering `upToSeq` the new base, with `confirmation`
   * (empty: the author was the only writer). A snapshot this client built or checked becomes
   * its base; one it caught as forged raises `forged-snapshot` naming the confirmer instead.
   */
  confirmationReceived(upToSeq: number, confirmation: Uint8Array): Promise<boolean> {
    return this.serial(async () => {
      const c = await this.review.confirmed(upToSeq, confirmation)
      if (c === undefined || c.upToSeq < this.cp.snapshotSeq) return false
      this.adoptBase(c.upToSeq, c.id, c.state, c.counters, c.clientIds)
      return true
    })
  }

  /**
   * Compare the relay's head sequence number (after a subscribe) with the checkpoint; a
   * shorter log than already seen is a rollback. Returns false (and emits) in that case.
   */
  checkHead(headSeq: number): boolean {
    if (headSeq >= this.cp.lastSeq) return true
    this.emit('misbehaviour', [
      {
        kind: 'rollback',
        message: `relay log ends at ${headSeq}, checkpoint has ${this.cp.lastSeq}`,
        seq: headSeq,
      },
    ])
    return false
  }

  /**
   * Seal a compaction snapshot covering every relay update up to {@link lastSeq}, built on the
   * current base (see `Compaction`). The relay keeps it pending until a second writer confirms
   * it; {@link confirmationReceived} then makes it the base. Throws `not-a-writer` or
   * `cannot-compact`.
   */
  createSnapshot(): Promise<{ sealed: Uint8Array; upToSeq: number; prevSeq: number }> {
    return this.serial(async () => {
      if (!this.crypto.canWrite()) throw new CoreError('not-a-writer', 'only writers snapshot')
      const base = this.compaction.base
      const upToSeq = this.cp.lastSeq
      const built = this.compaction.build(upToSeq, this.doc.gc)
      if (base === undefined || built === undefined) {
        throw new CoreError('cannot-compact', 'no new updates on a base this client holds')
      }
      const position = { upToSeq, prevSeq: base.upToSeq, prev: base.id }
      const sealed = await this.crypto.seal('snapshot', built.body, 0, position)
      await this.review.own(sealed, built)
      return { sealed, upToSeq, prevSeq: base.upToSeq }
    })
  }

  /** The relay confirmed the snapshot from {@link createSnapshot}: it becomes the base. */
  snapshotStored(sealed: Uint8Array): Promise<void> {
    return this.serial(async () => {
      const c = await this.review.ownConfirmed(sealed)
      if (c === undefined || c.upToSeq < this.cp.snapshotSeq) return
      this.adoptBase(c.upToSeq, c.id, c.state, c.counters, c.clientIds)
    })
  }

  /** Seal a state diff against `stateVector` for a peer tab (`state` kind, not for the relay). */
  sealState(stateVector?: Uint8Array): Promise<Uint8Array> {
    return this.crypto.seal('state', Y.encodeStateAsUpdate(this.doc, stateVector), 0)
  }

  /** Seal this document's state vector as a request for a peer tab's missing updates. */
  sealStateRequest(): Promise<Uint8Array> {
    return this.crypto.seal('state', Y.encodeStateVector(this.doc), 0)
  }

  /**
   * Open a peer tab's sealed state request and seal the diff it lacks (see
   * {@link sealStateRequest}). Throws if the request does not verify.
   */
  async answerStateRequest(sealed: Uint8Array): Promise<Uint8Array> {
    const { plaintext: stateVector } = await this.crypto.open('state', sealed)
    return this.sealState(stateVector)
  }

  /** Seal an encoded presence message (transports never touch the crypto themselves). */
  sealPresence(message: Uint8Array): Promise<Uint8Array> {
    return this.crypto.seal('presence', message, 0)
  }

  /**
   * Verify and decrypt a presence message: its author, whether that author may write now
   * (signed heads are believed only from writers) and the encoded message. Throws if it does
   * not verify.
   */
  async openPresence(
    sealed: Uint8Array,
  ): Promise<{ readonly author: string; readonly writer: boolean; readonly message: Uint8Array }> {
    const opened = await this.crypto.open('presence', sealed)
    return { author: opened.author, writer: opened.writer === true, message: opened.plaintext }
  }

  /**
   * Persist the local state cache and checkpoint now. Only the updates applied since the last
   * save are sealed and appended; every `compactLocalAfter` chunks the whole state is sealed
   * once instead and the chunks dropped. The checkpoint is written last, after the state it
   * describes.
   */
  save(): Promise<void> {
    if (this.saveTimer !== undefined) clearTimeout(this.saveTimer)
    this.saveTimer = undefined
    const cache = this.cache
    if (cache === undefined) return Promise.resolve()
    const cp = encodeCheckpoint({ ...this.cp, heads: this.relayHeads(), counter: this.counter })
    return this.serial(cache.prepare(this.doc, cp))
  }

  /** Flush pending work, persist, and unbind from the document. */
  override destroy(): Promise<void> {
    if (this.destroyed) return Promise.resolve()
    this.batcher.drain()
    this.doc.off('update', this.onUpdate)
    this.doc.off('update', this.onAnyUpdate)
    this.unwatch?.()
    const done = this.save().finally(() => {
      this.destroyed = true
      super.destroy()
    })
    return done
  }

  private readonly onAnyUpdate = (update: Uint8Array, origin: unknown): void => {
    // What load() applies is already stored.
    if (origin !== this) this.cache?.note(update)
  }

  private readonly onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (typeof origin === 'object' && origin !== null && this.remoteOrigins.has(origin)) return
    const before = this.unsynced
    this.batcher.push(update)
    if (this.unsynced !== before) this.emit('unsynced', [this.unsynced])
  }

  /**
   * Seal local edits held back while the member could not write (membership not loaded yet,
   * or a role change). Transports call it after membership entries arrive.
   */
  retryHeld(): void {
    if (this.held.length === 0 || !this.crypto.canWrite()) return
    const held = this.held
    this.held = []
    void this.sealLocal(held.length === 1 ? (held[0] as Uint8Array) : Y.mergeUpdates(held))
  }

  private sealLocal(update: Uint8Array): Promise<void> {
    // Counted as unsynced from the moment the window closes until it is queued (or held):
    // sealing is asynchronous, and a count of 0 must mean "everything is durable".
    this.sealing++
    let counted = true
    const settle = () => {
      if (counted) this.sealing--
      counted = false
    }
    return this.serial(async () => {
      if (!this.crypto.canWrite()) {
        // Kept in memory: the membership may simply not be loaded yet.
        this.held.push(update)
        settle()
        this.emit('error', [new CoreError('not-a-writer', 'local edit held: not a writer')])
        return
      }
      const counter = this.nextCounter()
      const e = { counter, sealed: await this.crypto.seal('update', update, counter) }
      await this.store?.enqueue(e)
      this.queue.set(counter, e)
      this.queuedClients.set(counter, updateClients(update))
      this.plain.set(counter, update)
      settle()
      this.emit('envelope', [e])
      this.emit('unsynced', [this.unsynced])
    }).catch((err) => {
      settle()
      this.emit('error', [err])
    })
  }

  private nextCounter(): number {
    this.counter += 1
    return this.counter
  }

  /** `seq` is done with: the author's counter is counted as received, the checkpoint moves. */
  private consumed(seq: number, author: string, counter: number): void {
    if (raise(this.heads, author, counter)) this.headSeqs.set(author, seq)
    if (author === this.crypto.author && counter > this.counter) this.counter = counter
    this.markSeq(seq)
    this.scheduleSave()
  }

  /**
   * A verified envelope whose content is refused (not valid Yjs, or inserting in another
   * member's name): skipped whole, yet consumed, so no reader waits for it or resyncs it, and
   * the signer's counter counts as received, so its heads accuse nobody of withholding.
   */
  private poisoned(
    seq: number,
    author: string,
    counter: number,
    error: unknown,
    message: string,
    refused?: number | 'too-many',
  ): ReceiveResult {
    this.consumed(seq, author, counter)
    this.emit('rejected', [{ kind: 'update', error }])
    const impersonation = typeof refused === 'number'
    this.emit('misbehaviour', [
      {
        kind: impersonation ? 'impersonation' : 'malformed-update',
        message,
        author,
        counter,
        seq,
        ...(impersonation ? { clientId: refused } : {}),
      },
    ])
    return 'rejected'
  }

  /**
   * Bind the client ids of an acknowledged local envelope (sequence `seq`) to this author;
   * false if readers refuse it (an id was bound to another member first, or too many ids).
   */
  private bindOwn(clients: number[], seq: number): boolean {
    const me = this.crypto.author
    const refused = this.cp.clientIds.refuse(me, clients)
    if (typeof refused === 'number') {
      // Someone bound our id first: readers refuse this envelope; Yjs already gave this
      // document a new client id when it applied the squatter's update.
      this.emit('misbehaviour', [
        {
          kind: 'impersonation',
          message: `Yjs client id ${refused} of this client was bound to another member first`,
          author: this.cp.clientIds.owner(refused) as string,
          clientId: refused,
          seq,
        },
      ])
      return false
    }
    if (refused !== undefined) return false
    this.cp.clientIds.bind(me, clients)
    return true
  }

  private observerThrew(cause: unknown): void {
    // Surfaced, not swallowed; asynchronous so a listener that throws cannot undo the apply.
    const e = new CoreError('observer-threw', 'an observer threw while an update was applied', {
      cause,
    })
    queueMicrotask(() => this.emit('error', [e]))
  }

  private markSeq(seq: number): void {
    if (seq > this.cp.lastSeq) this.ahead.add(seq)
    let last = this.cp.lastSeq
    while (this.ahead.delete(last + 1)) last++
    if (last !== this.cp.lastSeq) this.cp = { ...this.cp, lastSeq: last }
  }

  private adoptBase(
    upToSeq: number,
    id: Uint8Array,
    state: Uint8Array,
    counters: Heads,
    clientIds: ClientIds | undefined,
  ): void {
    this.compaction.adopt({ upToSeq, id, state, counters, clientIds: clientIds ?? new ClientIds() })
    this.acceptSnapshot(upToSeq, id, counters)
  }

  private acceptSnapshot(upToSeq: number, proof: Uint8Array, counters: Heads): void {
    const lastSeq = Math.max(this.cp.lastSeq, upToSeq)
    for (const s of this.ahead) if (s <= lastSeq) this.ahead.delete(s)
    this.cp = { ...this.cp, snapshotSeq: upToSeq, snapshotProof: proof, snapshotCounters: counters }
    this.cp = { ...this.cp, lastSeq }
    // Sequence numbers just above the snapshot may already have arrived.
    this.markSeq(lastSeq)
    this.scheduleSave()
  }

  private scheduleSave(): void {
    if (this.store === undefined || this.saveTimer !== undefined || this.destroyed) return
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined
      this.save().catch((err) => this.emit('error', [err]))
    }, this.saveMs)
  }

  private async load(): Promise<void> {
    if (this.cache === undefined) return
    const { checkpoint, queued } = await this.cache.load(this.doc, this)
    if (checkpoint !== undefined) {
      this.cp = checkpoint
      this.heads = new Map(this.cp.heads)
      for (const a of this.heads.keys()) this.headSeqs.set(a, this.cp.lastSeq)
      this.counter = this.cp.counter
    }
    const twins: { plaintext: Uint8Array; segment: string }[] = []
    for (const { envelope, plaintext } of queued) {
      const { segment, ...e } = envelope
      this.counter = Math.max(this.counter, e.counter)
      if (this.queue.has(e.counter)) {
        twins.push({ plaintext, segment })
        continue
      }
      this.store?.adopt(e.counter, segment)
      this.queue.set(e.counter, e)
      // It may have been sent before the restart: never merged, never resealed unchecked.
      this.sends.set(e.counter, 1)
      this.queuedClients.set(e.counter, updateClients(plaintext))
      this.plain.set(e.counter, plaintext)
    }
    // Another binding of this member (a second tab on the same store) queued the same counter:
    // both edits are kept, the twin under a fresh counter. If its tab had already stored it the
    // log holds that update twice, which Yjs applies once; dropping it could lose the edit.
    for (const { plaintext, segment } of twins) {
      if (!this.crypto.canWrite()) {
        // Membership not loaded yet: sealed once it allows (the stored twin stays until then).
        this.held.push(plaintext)
        continue
      }
      const counter = this.nextCounter()
      const e = { counter, sealed: await this.crypto.seal('update', plaintext, counter) }
      await this.store?.enqueue(e)
      await this.store?.drop(segment)
      this.queue.set(counter, e)
      this.queuedClients.set(counter, updateClients(plaintext))
      this.plain.set(counter, plaintext)
    }
    // Updates before lastSeq were applied in an earlier session and are not held.
    this.compaction = new Compaction(this.cp.lastSeq)
    if (this.queue.size > 0) this.emit('unsynced', [this.unsynced])
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(() => {
      if (this.destroyed) throw new CoreError('destroyed', 'binding was destroyed')
      return fn()
    })
    this.chain = run.catch(() => undefined)
    return run
  }
}
