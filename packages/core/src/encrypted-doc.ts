import type { StorageAdapter } from '@valv/storage'
import { ObservableV2 } from 'lib0/observable'
import * as Y from 'yjs'
import { Batcher, type BatchOptions } from './batcher.js'
import {
  type Checkpoint,
  decodeCheckpoint,
  emptyCheckpoint,
  encodeCheckpoint,
  snapshotRollback,
} from './checkpoint.js'
import type { DocumentCrypto, SealKind } from './crypto-seam.js'
import { CoreError } from './errors.js'
import { type Heads, raise } from './heads.js'
import { LocalStore, type QueuedEnvelope } from './local-store.js'
import type { Misbehaviour } from './misbehaviour.js'
import { decodeSnapshotBody, encodeSnapshotBody, snapshotProof } from './snapshot.js'

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
  /** An asynchronous failure (storage, sealing). */
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
  private readonly batcher: Batcher
  private readonly remoteOrigins = new WeakSet<object>()
  private readonly queue = new Map<number, QueuedEnvelope>()
  private cp: Checkpoint = emptyCheckpoint()
  private heads: Heads = new Map()
  private readonly headSeqs = new Map<string, number>()
  private readonly ahead = new Set<number>()
  private counter = 0
  /** Batches handed to sealing but not yet queued: still unsynced while crypto runs. */
  private sealing = 0
  private held: Uint8Array[] = []
  private chain: Promise<unknown> = Promise.resolve()
  private saveTimer: ReturnType<typeof setTimeout> | undefined
  private readonly saveMs: number
  private destroyed = false

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
    this.remoteOrigins.add(this)
    this.batcher = new Batcher(this.doc, (u) => this.sealLocal(u), options.batch)
    this.doc.on('update', this.onUpdate)
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
    if (raise(this.heads, this.crypto.author, counter)) this.headSeqs.set(this.crypto.author, seq)
    this.markSeq(seq)
    this.store?.dequeue(counter).catch((err) => this.emit('error', [err]))
    this.emit('unsynced', [this.unsynced])
    this.scheduleSave()
  }

  /**
   * The relay refused `counter` as stale (another session of the same author used it): seal
   * the same plaintext again under a fresh counter. Resolves with the new envelope.
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
      this.queue.set(fresh.counter, fresh)
      return fresh
    })
  }

  /**
   * Verify, decrypt and apply an envelope the relay delivered as `seq`. Nothing touches the
   * document unless the envelope opens; a delivery whose author counter was already delivered
   * at a lower sequence number raises `replay`.
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
        this.emit('misbehaviour', [
          { kind: 'invalid', message: 'relay delivered an envelope that does not verify', seq },
        ])
        return 'rejected'
      }
      const { author, counter } = opened
      const known = this.heads.get(author) ?? 0
      if (counter <= known && seq > (this.headSeqs.get(author) ?? 0)) {
        this.markSeq(seq)
        this.emit('misbehaviour', [
          { kind: 'replay', message: 'author counter delivered again', author, counter, seq },
        ])
        return 'rejected'
      }
      this.remoteOrigins.add(origin)
      Y.applyUpdate(this.doc, opened.plaintext, origin)
      if (raise(this.heads, author, counter)) this.headSeqs.set(author, seq)
      if (author === this.crypto.author && counter > this.counter) this.counter = counter
      this.markSeq(seq)
      this.scheduleSave()
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
        this.remoteOrigins.add(origin)
        Y.applyUpdate(this.doc, opened.plaintext, origin)
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
   * Open a compaction snapshot the relay served as covering `upToSeq`, check it against the
   * local checkpoint (rollback, fork) and apply it. Resolves false if it was refused.
   */
  receiveSnapshot(sealed: Uint8Array, upToSeq: number, origin: object): Promise<boolean> {
    return this.serial(async () => {
      let body: ReturnType<typeof decodeSnapshotBody>
      try {
        body = decodeSnapshotBody((await this.crypto.open('snapshot', sealed)).plaintext)
        if (body.upToSeq !== upToSeq) throw new CoreError('malformed', 'upToSeq mismatch')
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
      const proof = await snapshotProof(body.prevProof, sealed)
      const why = snapshotRollback(this.cp, body, proof)
      if (why !== undefined) {
        const kind = why.includes('fork') || why.includes('chain') ? 'fork' : 'rollback'
        this.emit('misbehaviour', [{ kind, message: why, seq: upToSeq }])
        return false
      }
      this.remoteOrigins.add(origin)
      Y.applyUpdateV2(this.doc, body.state, origin)
      for (const [a, c] of body.counters) {
        if (raise(this.heads, a, c)) this.headSeqs.set(a, upToSeq)
      }
      this.acceptSnapshot(upToSeq, proof, body.counters)
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
   * Seal a compaction snapshot of the current state covering every relay update up to
   * {@link lastSeq}. Call {@link snapshotStored} once the relay acknowledged it.
   */
  createSnapshot(): Promise<{ sealed: Uint8Array; upToSeq: number; prevSeq: number }> {
    return this.serial(async () => {
      if (!this.crypto.canWrite()) throw new CoreError('not-a-writer', 'only writers snapshot')
      const upToSeq = this.cp.lastSeq
      const body = {
        upToSeq,
        prevSeq: this.cp.snapshotSeq,
        prevProof: this.cp.snapshotProof,
        counters: this.relayHeads(),
        state: Y.encodeStateAsUpdateV2(this.doc),
      }
      const sealed = await this.crypto.seal('snapshot', encodeSnapshotBody(body), 0)
      return { sealed, upToSeq, prevSeq: body.prevSeq }
    })
  }

  /** The relay stored the snapshot from {@link createSnapshot}: it becomes the checkpoint's. */
  snapshotStored(sealed: Uint8Array): Promise<void> {
    return this.serial(async () => {
      const body = decodeSnapshotBody((await this.crypto.open('snapshot', sealed)).plaintext)
      if (body.upToSeq < this.cp.snapshotSeq) return
      this.acceptSnapshot(body.upToSeq, await snapshotProof(body.prevProof, sealed), body.counters)
    })
  }

  /** Seal a state diff against `stateVector` for a peer tab (`state` kind, not for the relay). */
  sealState(stateVector?: Uint8Array): Promise<Uint8Array> {
    return this.crypto.seal('state', Y.encodeStateAsUpdate(this.doc, stateVector), 0)
  }

  /** Persist the local state cache and checkpoint now. */
  save(): Promise<void> {
    if (this.saveTimer !== undefined) clearTimeout(this.saveTimer)
    this.saveTimer = undefined
    const store = this.store
    if (store === undefined) return Promise.resolve()
    const state = Y.encodeStateAsUpdateV2(this.doc)
    const cp = encodeCheckpoint({ ...this.cp, heads: this.relayHeads(), counter: this.counter })
    return this.serial(async () => {
      await store.write('state', await this.crypto.seal('state', state, 0))
      await store.write('cp', await this.crypto.seal('checkpoint', cp, 0))
    })
  }

  /** Flush pending work, persist, and unbind from the document. */
  override destroy(): Promise<void> {
    if (this.destroyed) return Promise.resolve()
    this.batcher.drain()
    this.doc.off('update', this.onUpdate)
    const done = this.save().finally(() => {
      this.destroyed = true
      super.destroy()
    })
    return done
  }

  private readonly onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (typeof origin === 'object' && origin !== null && this.remoteOrigins.has(origin)) return
    this.batcher.push(update)
    if (this.batcher.size === 1) this.emit('unsynced', [this.unsynced])
  }

  /**
   * Seal local edits held back while the member could not write (membership not loaded yet,
   * or a role change). Transports call it after membership entries arrive.
   */
  retryHeld(): void {
    if (this.held.length === 0 || !this.crypto.canWrite()) return
    const held = this.held
    this.held = []
    this.sealLocal(held.length === 1 ? (held[0] as Uint8Array) : Y.mergeUpdates(held))
  }

  private sealLocal(update: Uint8Array): void {
    // Counted as unsynced from the moment the window closes until it is queued (or held):
    // sealing is asynchronous, and a count of 0 must mean "everything is durable".
    this.sealing++
    let counted = true
    const settle = () => {
      if (counted) this.sealing--
      counted = false
    }
    this.serial(async () => {
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

  private markSeq(seq: number): void {
    if (seq > this.cp.lastSeq) this.ahead.add(seq)
    let last = this.cp.lastSeq
    while (this.ahead.delete(last + 1)) last++
    if (last !== this.cp.lastSeq) this.cp = { ...this.cp, lastSeq: last }
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
    const store = this.store
    if (store === undefined) return
    const cpBytes = await store.read('cp')
    if (cpBytes !== undefined) {
      let opened: Awaited<ReturnType<DocumentCrypto['open']>>
      try {
        opened = await this.crypto.open('checkpoint', cpBytes)
      } catch (cause) {
        throw new CoreError('corrupt-local-state', 'checkpoint does not verify', { cause })
      }
      if (opened.author !== this.crypto.author) {
        throw new CoreError('corrupt-local-state', 'checkpoint was signed by someone else')
      }
      this.cp = decodeCheckpoint(opened.plaintext)
      this.heads = new Map(this.cp.heads)
      for (const a of this.heads.keys()) this.headSeqs.set(a, this.cp.lastSeq)
      this.counter = this.cp.counter
    }
    const state = await store.read('state')
    if (state !== undefined) {
      const opened = await this.crypto.open('state', state).catch((cause) => {
        throw new CoreError('corrupt-local-state', 'state cache does not verify', { cause })
      })
      Y.applyUpdateV2(this.doc, opened.plaintext, this)
    }
    for (const e of await store.queued()) {
      const opened = await this.crypto.open('update', e.sealed).catch((cause) => {
        throw new CoreError('corrupt-local-state', 'queued envelope does not verify', { cause })
      })
      Y.applyUpdate(this.doc, opened.plaintext, this)
      this.queue.set(e.counter, e)
      this.counter = Math.max(this.counter, e.counter)
    }
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
