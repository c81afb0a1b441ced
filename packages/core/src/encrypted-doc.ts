import type { StorageAdapter } from '@valv/storage'
import { ObservableV2 } from 'lib0/observable'
import * as Y from 'yjs'
import type { BatchOptions } from './batcher.js'
import type { DocumentCrypto, SealKind } from './crypto-seam.js'
import { CoreError } from './errors.js'
import type { Heads } from './heads.js'
import { Inbox } from './inbox.js'
import { LocalEdits } from './local-edits.js'
import { LocalStore, type QueuedEnvelope } from './local-store.js'
import { LogPosition } from './log-position.js'
import type { Misbehaviour } from './misbehaviour.js'
import { Outbox } from './outbox.js'
import { Persistence } from './persistence.js'
import { RemoteApplier } from './remote-update.js'
import { SnapshotSync } from './snapshot-sync.js'

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

  private readonly applier: RemoteApplier
  private readonly position: LogPosition
  private readonly outbox: Outbox
  private readonly edits: LocalEdits
  private readonly inbox: Inbox
  private readonly snapshots: SnapshotSync
  private readonly persistence: Persistence | undefined
  private chain: Promise<unknown> = Promise.resolve()
  private destroyed = false
  private readonly unwatch: (() => void) | undefined

  /** Bind `options.doc`; await {@link ready} before connecting transports. */
  constructor(options: EncryptedDocOptions) {
    super()
    if (!DOC_ID.test(options.docId)) {
      throw new CoreError('invalid-argument', 'docId must be 1-200 chars of [A-Za-z0-9._~-]')
    }
    const { doc, docId, crypto } = options
    this.doc = doc
    this.docId = docId
    this.crypto = crypto
    const store = options.storage ? new LocalStore(options.storage, docId) : undefined
    this.applier = new RemoteApplier(doc, (e) => this.emit('error', [e]))
    // What load() applies from the local cache is neither saved nor sent again.
    this.applier.register(this)
    this.position = new LogPosition((m) => this.emit('misbehaviour', [m]))
    this.outbox = new Outbox({ doc, crypto, store, error: (e) => this.emit('error', [e]) })
    // The parts report through this binding's events and run their asynchronous steps on its
    // one chain (serial), so sealing and opening happen in call order.
    const { applier, position, outbox } = this
    const parts = { doc, crypto, position, applier, outbox, events: this }
    const changed = () => this.scheduleSave()
    this.snapshots = new SnapshotSync({ ...parts, changed })
    const acknowledge = (counter: number, seq: number) => this.acknowledge(counter, seq)
    this.inbox = new Inbox({ ...parts, snapshots: this.snapshots, changed, acknowledge })
    const serial = (fn: () => Promise<void>) => this.serial(fn)
    this.edits = new LocalEdits({ ...parts, batch: options.batch, serial })
    this.persistence = store && new Persistence(store, options, this)
    // Edits held back while not a writer go out as soon as the membership allows it.
    this.unwatch = crypto.onChange?.(() => this.retryHeld())
    this.ready = this.serial(() => this.load())
  }

  /** Mark `origin` as a transport: updates applied with it as origin are not sent again. */
  registerOrigin(origin: object): void {
    this.applier.register(origin)
  }

  /** Sealed local batches not yet acknowledged by the relay, oldest first. */
  pending(): QueuedEnvelope[] {
    return this.outbox.pending()
  }

  /**
   * Local changes not yet acknowledged: queued envelopes, batches being sealed, edits held back
   * (not a writer yet) and the open batch window. It reaches 0 only when the relay has made
   * every local change durable.
   */
  get unsynced(): number {
    return this.edits.unsynced
  }

  /** Highest contiguous relay sequence number applied. */
  get lastSeq(): number {
    return this.position.lastSeq
  }

  /** `upToSeq` of the newest snapshot accepted. */
  get snapshotSeq(): number {
    return this.position.snapshotSeq
  }

  /** Whether some sequence numbers above {@link lastSeq} were skipped (resync needed). */
  get hasGap(): boolean {
    return this.position.hasGap
  }

  /** Per-author counters of everything applied from the relay (a copy). */
  relayHeads(): Heads {
    return this.position.relayHeads()
  }

  /** Close the batch window now and wait until every local change is sealed and queued. */
  flush(): Promise<void> {
    this.edits.drain()
    return this.serial(async () => undefined)
  }

  /** The relay made the envelope `counter` durable as sequence number `seq`. */
  acknowledge(counter: number, seq: number): void {
    const acked = this.outbox.take(counter)
    if (acked === undefined) return
    const me = this.crypto.author
    this.position.count(me, counter, seq)
    // Readers refuse an envelope whose ids were bound to someone else: so do snapshots.
    if (this.position.bindOwn(me, acked.clients, seq)) {
      this.snapshots.record(seq, me, counter, acked.plaintext, acked.clients)
    }
    this.position.mark(seq)
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
    return this.outbox.markSent(counter)
  }

  /**
   * The relay refused `counter` as stale (another session of the same author used it): seal
   * the same plaintext again under a fresh counter. Resolves with the new envelope. Call it
   * only for an envelope known not to be stored (see {@link markSent}), or the log holds the
   * update twice.
   */
  reseal(counter: number): Promise<QueuedEnvelope | undefined> {
    return this.serial(() => this.outbox.reseal(counter))
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
      const fresh = await this.outbox.coalesce(counters)
      if (fresh !== undefined) this.emit('unsynced', [this.unsynced])
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
    return this.serial(() => this.inbox.receive(sealed, seq, origin))
  }

  /**
   * Verify, decrypt and apply a message that did not come through the relay log (a tab's
   * `update` or `state` over BroadcastChannel). Resolves false if it did not open.
   */
  receiveDirect(kind: 'update' | 'state', sealed: Uint8Array, origin: object): Promise<boolean> {
    return this.serial(() => this.inbox.receiveDirect(kind, sealed, origin))
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
    return this.serial(() => this.snapshots.receive(sealed, upToSeq, origin, confirmation))
  }

  /**
   * Check a snapshot the relay holds but no second writer confirmed yet: recompute it from the
   * covered updates (when this client holds them all) and raise `forged-snapshot` naming its
   * author if it differs. It is never applied: the relay still serves the updates it covers.
   * Resolves with a signed confirmation to send when it matched and this member may confirm.
   */
  reviewSnapshot(sealed: Uint8Array, upToSeq: number): Promise<Uint8Array | undefined> {
    return this.serial(() => this.snapshots.review(sealed, upToSeq))
  }

  /**
   * The relay made its pending snapshot covering `upToSeq` the new base, with `confirmation`
   * (empty: the author was the only writer). A snapshot this client built or checked becomes
   * its base; one it caught as forged raises `forged-snapshot` naming the confirmer instead.
   */
  confirmationReceived(upToSeq: number, confirmation: Uint8Array): Promise<boolean> {
    return this.serial(() => this.snapshots.confirmed(upToSeq, confirmation))
  }

  /**
   * Compare the relay's head sequence number (after a subscribe) with the checkpoint; a
   * shorter log than already seen is a rollback. Returns false (and emits) in that case.
   */
  checkHead(headSeq: number): boolean {
    return this.position.checkHead(headSeq)
  }

  /**
   * Seal a compaction snapshot covering every relay update up to {@link lastSeq}, built on the
   * current base (see `Compaction`). The relay keeps it pending until a second writer confirms
   * it; {@link confirmationReceived} then makes it the base. Throws `not-a-writer` or
   * `cannot-compact`.
   */
  createSnapshot(): Promise<{ sealed: Uint8Array; upToSeq: number; prevSeq: number }> {
    return this.serial(() => this.snapshots.create())
  }

  /** The relay confirmed the snapshot from {@link createSnapshot}: it becomes the base. */
  snapshotStored(sealed: Uint8Array): Promise<void> {
    return this.serial(() => this.snapshots.stored(sealed))
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
    const write = this.persistence?.prepare(this.position.encode(this.outbox.counter))
    return write === undefined ? Promise.resolve() : this.serial(write)
  }

  /** Flush pending work, persist, and unbind from the document. */
  override destroy(): Promise<void> {
    if (this.destroyed) return Promise.resolve()
    this.edits.destroy()
    this.persistence?.destroy()
    this.unwatch?.()
    const done = this.save().finally(() => {
      this.destroyed = true
      super.destroy()
    })
    return done
  }

  /**
   * Seal local edits held back while the member could not write (membership not loaded yet,
   * or a role change). Transports call it after membership entries arrive.
   */
  retryHeld(): void {
    this.edits.retryHeld()
  }

  private scheduleSave(): void {
    if (this.destroyed) return
    this.persistence?.schedule(() => this.save().catch((err) => this.emit('error', [err])))
  }

  private async load(): Promise<void> {
    if (this.persistence === undefined) return
    const { checkpoint, queued } = await this.persistence.load()
    if (checkpoint !== undefined) {
      this.position.restore(checkpoint)
      this.outbox.observe(checkpoint.counter)
    }
    await this.outbox.restore(queued)
    // Updates before lastSeq were applied in an earlier session and are not held.
    this.snapshots.restart(this.position.lastSeq)
    if (this.outbox.size > 0) this.emit('unsynced', [this.unsynced])
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
