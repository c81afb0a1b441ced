import {
  type BatchOptions,
  type DocumentCrypto,
  EncryptedDoc,
  type Misbehaviour,
  type QueuedEnvelope,
} from '@valv/core'
import type { StorageAdapter } from '@valv/storage'
import { type Frame, isRetryableClose } from '@valv/wire'
import { ObservableV2 } from 'lib0/observable'
import { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { Backoff, type BackoffOptions } from './backoff.js'
import {
  type ConnectionStatus,
  type DocumentChannel,
  RelayConnection,
  type WebSocketConstructor,
} from './connection.js'
import { WebsocketProviderError } from './errors.js'
import { PresenceChannel, type PresenceOptions } from './presence-channel.js'

/** Options of {@link WebsocketProvider}. Pass `binding`, or `doc` + `docId` + `document`. */
export type WebsocketProviderOptions = {
  /**
   * The shared connection to use (one socket for many documents). Without it the provider
   * opens its own from `url`, `token`, `WebSocketPolyfill`, `backoff` and `timeoutMs`.
   */
  readonly connection?: RelayConnection
  /** Relay URL, or several tried in turn when one fails (failover). */
  readonly url?: string | readonly string[]
  /** Several relay URLs, tried in turn on failure (same as an array `url`). */
  readonly urls?: readonly string[]
  /** Milliseconds of silence after which the path counts as dead (see {@link RelayConnection}). */
  readonly timeoutMs?: number
  /** Envelopes sent and not yet acknowledged at most (default 32); the rest wait their turn. */
  readonly maxInFlight?: number
  /** Credential for the relay's `onAuthenticate` hooks (e.g. an OIDC access token). */
  readonly token?: string | (() => string | Promise<string>)
  /** Connect in the constructor (default true). */
  readonly connect?: boolean
  /** WebSocket implementation where there is no global one (Node 20: `ws`). */
  readonly WebSocketPolyfill?: WebSocketConstructor
  /** Awareness to share; a new one on the document by default. */
  readonly awareness?: Awareness
  /** Presence timing (heads exchange, replay window). */
  readonly presence?: PresenceOptions
  /** Reconnect timing. */
  readonly backoff?: BackoffOptions
  /** Upload a snapshot once this many relay updates follow the last one (default 500; 0 = never). */
  readonly compactAfter?: number
} & (
  | {
      /** A binding shared with other transports. */
      readonly binding: EncryptedDoc
    }
  | {
      /** The document to sync. */
      readonly doc: Y.Doc
      /** Relay document id (1–200 chars of `[A-Za-z0-9._~-]`). */
      readonly docId: string
      /** The document's crypto handle (`DocumentCrypto` of `@valv/core`). */
      readonly document: DocumentCrypto
      /** Local storage for the offline queue, state cache and checkpoint. */
      readonly storage?: StorageAdapter
      /** Batching of local updates. */
      readonly batch?: BatchOptions
    }
)

/** Events of {@link WebsocketProvider}. */
export interface WebsocketProviderEvents {
  /** Connection state changed. */
  status: (e: { status: ConnectionStatus }) => void
  /** The document caught up with the relay (true) or lost the connection (false). */
  synced: (synced: boolean) => void
  /** Something failed; see {@link WebsocketProviderError} and `@valv/core` errors. */
  error: (error: Error) => void
  /** The relay misbehaved (withheld, replayed, rolled back, forked, forged). */
  misbehaviour: (m: Misbehaviour) => void
  /** The number of local changes the relay has not acknowledged changed. */
  unsyncedChanges: (count: number) => void
}

type Pending =
  | {
      readonly kind: 'update'
      readonly counter: number
      readonly sealed: Uint8Array
      /** First time the envelope was handed out: a `stale` answer proves it is not stored. */
      readonly first: boolean
    }
  | { readonly kind: 'snapshot'; readonly upToSeq: number }
  | { readonly kind: 'confirm'; readonly upToSeq: number; readonly confirmation: Uint8Array }
  | {
      readonly kind: 'membership'
      readonly index: number
      readonly entry: Uint8Array
      readonly resolve: () => void
      readonly reject: (e: Error) => void
    }

/**
 * Syncs a `Y.Doc` end-to-end encrypted through a Valv relay. Feels like y-websocket /
 * HocuspocusProvider: `connect()`, `disconnect()`, `destroy()`, `status` / `synced` / `error`
 * events, `whenSynced()`, `unsyncedChanges` (driven by the relay's durable acks) and a y-protocols
 * `awareness` for cursor plugins, sent encrypted and signed. It is a per-document view on a
 * {@link RelayConnection} (pass `connection` to share one socket between documents; otherwise it
 * opens its own), which reconnects with backoff and jitter, fails over between URLs and notices
 * a dead path. The provider keeps an offline queue, sends it merged and paced, compacts with
 * signed snapshots and raises `misbehaviour` when the relay withholds, replays or rolls back.
 *
 * @example
 * ```ts
 * import WebSocket from 'ws' // Node 20 only; browsers and Node 22 have a global WebSocket
 * const provider = new WebsocketProvider({
 *   url: 'wss://relay.example.se', doc, docId: session.docId, document: session, storage,
 *   token: async () => (await fetch('/relay-token')).text(), WebSocketPolyfill: WebSocket,
 * })
 * provider.on('misbehaviour', (m) => alert(`relay ${m.kind}`))
 * await provider.whenSynced()
 * // More documents on the same socket:
 * const budget = await DocumentSession.create(me)
 * const budgetProvider = new WebsocketProvider({
 *   connection: provider.connection,
 *   doc: new Y.Doc(),
 *   docId: budget.docId,
 *   document: budget,
 * })
 * ```
 */
export class WebsocketProvider
  extends ObservableV2<WebsocketProviderEvents>
  implements DocumentChannel
{
  /** The encrypted binding this provider transports. */
  readonly binding: EncryptedDoc
  /** The bound document. */
  readonly doc: Y.Doc
  /** Shared cursors and presence (y-protocols), carried encrypted. */
  readonly awareness: Awareness
  /** The socket this document travels on (shared with other documents if it was given). */
  readonly connection: RelayConnection
  /** Current connection state. */
  status: ConnectionStatus = 'disconnected'
  /** Whether the document is caught up with the relay on the current connection. */
  synced = false
  /** The relay's id of the current connection (from `auth-ok`); undefined while disconnected. */
  get sessionId(): string | undefined {
    return this.open ? this.connection.sessionId : undefined
  }

  private readonly owned: boolean
  private readonly ownsConnection: boolean
  private readonly presence: PresenceChannel
  private readonly compactAfter: number
  private readonly maxInFlight: number
  /** Whether this document is attached to the connection (connect() was called). */
  private shouldConnect = false
  /** Whether the connection told this document to subscribe (socket authenticated). */
  private open = false
  /** Counts sockets: frames queued from an earlier one must not act on the next. */
  private epoch = 0
  private destroyed = false
  private resyncTimer: ReturnType<typeof setTimeout> | undefined
  /** Resends the queue after the relay's storage failed (`storage-failed`), with backoff. */
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private readonly retryBackoff: Backoff
  /**
   * Counters answered `stale` on a resend: they may be stored (the relay can no longer compare
   * them), so they are resealed only if still queued after a fresh read of the log (a delivery
   * of one acknowledges it; see `EncryptedDoc.receiveUpdate`).
   */
  private readonly unsure = new Set<number>()
  private inbound: Promise<unknown> = Promise.resolve()
  private readonly inflight = new Map<number, Pending>()
  private readonly sentCounters = new Set<number>()
  private nextRef = 1
  private readonly listeners = new Set<(frame: Frame) => boolean>()
  private compacting = false
  /** Merging unsent envelopes: nothing else is sent meanwhile, so counters stay in order. */
  private coalescing = false
  /** Membership entries the relay proved it holds in the current subscription. */
  private membershipSeen = 0
  /** No compaction before this sequence number (after one was sent, refused or impossible). */
  private compactAt = 0
  private announced = false

  /** Create the provider (and its binding unless `binding` is given); connects by default. */
  constructor(private readonly options: WebsocketProviderOptions) {
    super()
    if (options.connection !== undefined) {
      this.connection = options.connection
      this.ownsConnection = false
    } else {
      const url = options.urls ?? options.url
      if (url === undefined || url.length === 0) {
        throw new WebsocketProviderError('invalid-argument', 'url required')
      }
      this.connection = new RelayConnection({
        url,
        ...(options.token !== undefined ? { token: options.token } : {}),
        ...(options.WebSocketPolyfill ? { WebSocketPolyfill: options.WebSocketPolyfill } : {}),
        ...(options.backoff ? { backoff: options.backoff } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      })
      this.ownsConnection = true
    }
    if ('binding' in options) {
      this.binding = options.binding
      this.owned = false
    } else {
      if (!(options.doc instanceof Y.Doc) || !options.document) {
        throw new WebsocketProviderError('invalid-argument', 'doc and document are required')
      }
      this.binding = new EncryptedDoc({
        doc: options.doc,
        docId: options.docId,
        crypto: options.document,
        ...(options.storage ? { storage: options.storage } : {}),
        ...(options.batch ? { batch: options.batch } : {}),
      })
      this.owned = true
    }
    this.doc = this.binding.doc
    this.awareness = options.awareness ?? new Awareness(this.doc)
    this.compactAfter = options.compactAfter ?? 500
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 32)
    this.retryBackoff = new Backoff(options.backoff)
    this.binding.registerOrigin(this)
    this.presence = new PresenceChannel(
      {
        binding: this.binding,
        awareness: this.awareness,
        isSynced: () => this.synced,
        send: (payload) => this.send({ type: 'presence', docId: this.binding.docId, payload }),
        misbehaviour: (m) => this.emit('misbehaviour', [m]),
        resync: () => this.resync(),
      },
      options.presence,
    )
    this.binding.on('envelope', this.onEnvelope)
    this.binding.on('misbehaviour', this.onMisbehaviour)
    this.binding.on('unsynced', this.onUnsynced)
    this.binding.on('error', this.onBindingError)
    this.connection.on('status', this.onConnectionStatus)
    this.connection.on('error', this.onConnectionError)
    if (options.connect !== false) this.connect()
  }

  /** The relay document id (the connection routes frames to this provider by it). */
  get docId(): string {
    return this.binding.docId
  }

  /** Local changes the relay has not made durable yet. */
  get unsyncedChanges(): number {
    return this.binding.unsynced
  }

  /** Resolves when the document has caught up with the relay (now, if it already has). */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve()
    return new Promise((resolve) => {
      const on = (s: boolean) => {
        if (!s) return
        this.off('synced', on)
        resolve()
      }
      this.on('synced', on)
    })
  }

  /** Subscribe on the connection (opening it if needed) and keep it after failures. */
  connect(): void {
    if (this.destroyed || this.shouldConnect) return
    this.shouldConnect = true
    this.binding.ready.then(
      () => {
        if (!this.shouldConnect || this.destroyed) return
        try {
          this.connection.attach(this)
        } catch (e) {
          // Another provider of this document is on the connection already.
          this.shouldConnect = false
          this.emit('error', [e as Error])
          return
        }
        if (!this.open) this.setStatus(this.connection.status)
      },
      (e) => this.emit('error', [e as Error]),
    )
  }

  /** Unsubscribe (closing the socket if no other document uses it); local edits keep queueing. */
  disconnect(): void {
    if (!this.shouldConnect) return
    this.shouldConnect = false
    if (this.open && this.announced) this.presence.leave()
    this.connection.detach(this)
    this.closed(1000)
  }

  /**
   * Append a signed membership entry at `index` (compare-and-append on the relay). Resolves
   * once the relay made it durable; rejects with `rejected` (`membership-conflict`, …).
   */
  appendMembership(index: number, entry: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.synced) {
        reject(new WebsocketProviderError('invalid-argument', 'not connected and synced'))
        return
      }
      const ref = this.nextRef++
      this.inflight.set(ref, { kind: 'membership', index, entry, resolve, reject })
      this.send({ type: 'membership-append', docId: this.binding.docId, ref, index, entry })
    })
  }

  /**
   * Send a frame of this provider's document on the current connection, for requests the
   * provider itself does not make (files: see `uploadFile`). Refs from 2^40 up are free for
   * such callers. Returns false when there is no open connection.
   */
  sendFrame(frame: Frame): boolean {
    if (!this.open) return false
    this.connection.send(frame)
    return true
  }

  /**
   * See each frame of this document before the provider handles it; a listener that returns
   * true consumes the frame. Returns a function that removes the listener.
   */
  onFrame(listener: (frame: Frame) => boolean): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Disconnect, persist and release everything (the binding too if this provider made it). */
  override async destroy(): Promise<void> {
    if (this.destroyed) return
    this.disconnect()
    this.destroyed = true
    this.presence.destroy()
    if (this.resyncTimer !== undefined) clearTimeout(this.resyncTimer)
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    this.binding.off('envelope', this.onEnvelope)
    this.binding.off('misbehaviour', this.onMisbehaviour)
    this.binding.off('unsynced', this.onUnsynced)
    this.binding.off('error', this.onBindingError)
    this.connection.off('status', this.onConnectionStatus)
    this.connection.off('error', this.onConnectionError)
    if (this.ownsConnection) this.connection.destroy()
    if (this.options.awareness === undefined) this.awareness.destroy()
    super.destroy()
    if (this.owned) await this.binding.destroy()
  }

  /** {@link DocumentChannel}: the socket is authenticated; subscribe. */
  opened(): void {
    if (!this.shouldConnect || this.destroyed) return
    this.open = true
    this.setStatus('connected')
    this.subscribe()
  }

  /** {@link DocumentChannel}: a frame for this document, handled after the ones before it. */
  receive(frame: Frame): void {
    const epoch = this.epoch
    // Frames queue behind slow ones (decryption); a frame of a socket that was replaced
    // meanwhile must not act on the new one (an old `synced` would send before subscribing).
    this.inbound = this.inbound
      .then(() => (this.epoch === epoch && this.open ? this.handle(frame) : undefined))
      .catch((e) => this.fail(e))
  }

  /** {@link DocumentChannel}: the socket closed with `code`. */
  closed(code: number): void {
    if (!this.open) {
      this.reportPermanent(code)
      return
    }
    this.open = false
    this.epoch++
    const wasSynced = this.announced
    this.synced = false
    this.announced = false
    this.compacting = false
    this.sentCounters.clear()
    for (const p of this.inflight.values()) {
      if (p.kind === 'membership') {
        p.reject(new WebsocketProviderError('closed', 'connection closed', { closeCode: code }))
      }
    }
    this.inflight.clear()
    this.presence.stop()
    this.setStatus('disconnected')
    if (wasSynced) this.emit('synced', [false])
    this.reportPermanent(code)
  }

  private reportPermanent(code: number): void {
    if (!this.shouldConnect || this.destroyed || code === 1000 || code === 4408) return
    if (isRetryableClose(code)) return
    this.shouldConnect = false
    this.connection.detach(this)
    this.emit('error', [
      new WebsocketProviderError('closed', `relay closed the connection (${code})`, {
        closeCode: code,
      }),
    ])
  }

  private subscribe(): void {
    const b = this.binding
    // Ask again for the newest entry known: a relay that still has the chain sends it, one
    // that lost it (restored from a backup) cannot (see onSynced).
    this.membershipSeen = 0
    this.send({
      type: 'subscribe',
      docId: b.docId,
      sinceSeq: b.lastSeq,
      snapshotSeq: b.snapshotSeq,
      membershipFrom: Math.max(0, (b.crypto.membershipLength?.() ?? 0) - 1),
    })
  }

  private async handle(f: Frame): Promise<void> {
    const b = this.binding
    if ('docId' in f && f.docId !== b.docId && f.type !== 'error') return
    for (const listener of this.listeners) if (listener(f)) return
    switch (f.type) {
      case 'membership':
        this.membershipSeen = Math.max(this.membershipSeen, f.index + 1)
        try {
          await b.crypto.applyMembership?.(f.index, f.entry)
        } catch (e) {
          // A different entry where one was verified: the relay forked the chain.
          if ((e as { code?: string }).code !== 'fork-detected') throw e
          this.emit('misbehaviour', [{ kind: 'fork', message: (e as Error).message }])
        }
        // Held edits go out on their own: the binding listens to `DocumentCrypto.onChange`.
        return
      case 'snapshot':
        if (f.confirmed) await b.receiveSnapshot(f.snapshot, f.upToSeq, this, f.confirmation)
        else await this.review(f.snapshot, f.upToSeq)
        return
      case 'snapshot-confirm':
        await b.confirmationReceived(f.upToSeq, f.confirmation)
        return
      case 'deliver':
        await b.receiveUpdate(f.envelope, f.seq, this)
        this.afterSeq()
        return
      case 'synced':
        return this.onSynced(f.headSeq)
      case 'ack':
        return this.onAck(f.ref, f.seq)
      case 'error':
        return this.onReject(f.ref, f.code, f.message)
      case 'presence':
        await this.presence.receive(f.payload).catch(() => undefined)
        return
      default:
        return
    }
  }

  private onSynced(headSeq: number): void {
    try {
      this.binding.crypto.membershipSynced?.(this.membershipSeen)
    } catch (e) {
      // The relay's membership chain is older than the one verified: the session keeps its own
      // and refuses membership changes; content still syncs, checked against the verified chain.
      this.emit('misbehaviour', [{ kind: 'rollback', message: (e as Error).message }])
    }
    this.binding.checkHead(headSeq)
    this.synced = true
    // The log was read again: an envelope answered `stale` that is still queued is not in it.
    const queued = new Set(this.binding.pending().map((e) => e.counter))
    for (const c of this.unsure) {
      if (queued.has(c) && !this.sentCounters.has(c)) void this.resealAndSend(c)
    }
    this.unsure.clear()
    this.pump()
    if (!this.announced) {
      // A resync after a gap or withholding does not announce `synced` a second time.
      this.announced = true
      this.emit('synced', [true])
      this.presence.start()
    }
    this.afterSeq()
  }

  private onAck(ref: number, seq: number): void {
    const p = this.inflight.get(ref)
    if (p === undefined) return
    this.inflight.delete(ref)
    if (p.kind === 'update') {
      this.sentCounters.delete(p.counter)
      this.retryBackoff.reset()
      this.binding.acknowledge(p.counter, seq)
      this.afterSeq()
      this.pump()
    } else if (p.kind === 'snapshot') {
      // Stored; it becomes the base once confirmed (a `snapshot-confirm` frame).
      this.compacting = false
    } else if (p.kind === 'confirm') {
      void this.binding.confirmationReceived(p.upToSeq, p.confirmation).catch((e) => this.fail(e))
    } else {
      // The relay forwards an entry to the other subscribers only; learn our own here.
      const crypto = this.binding.crypto
      void (crypto.applyMembership?.(p.index, p.entry) ?? Promise.resolve()).then(
        () => p.resolve(),
        p.reject,
      )
    }
  }

  private async onReject(ref: number, code: string, message: string): Promise<void> {
    const p = this.inflight.get(ref)
    this.inflight.delete(ref)
    if (p?.kind === 'update') {
      this.sentCounters.delete(p.counter)
      if (code === 'stale') {
        // Sent for the first time, so not stored by us: another session of this author used
        // the counter; seal again under a fresh one.
        if (p.first) return this.resealAndSend(p.counter)
        // Sent before: it may be stored. Resealing it could store it twice; read the log again.
        this.unsure.add(p.counter)
        this.resync()
        return
      }
      // Not subscribed (raced a resync): it stays queued; send again now or after `synced`.
      if (code === 'not-subscribed') {
        const e = this.binding.pending().find((q) => q.counter === p.counter)
        if (e !== undefined && this.synced) this.sendEnvelope(e)
        return
      }
      // The relay's storage failed (or it wants an earlier counter first): it stays queued and
      // the whole queue is resent, in counter order, after a backoff; no reconnect needed.
      if (code === 'storage-failed') this.retryLater()
    } else if (p?.kind === 'snapshot') {
      this.compacting = false
      // Lost the compare-and-swap: the base moved. Re-subscribing serves the new base (the
      // relay sends it to clients whose snapshotSeq is older); compaction resumes from it.
      if (code === 'snapshot-conflict') this.resync()
    } else if (p?.kind === 'confirm') {
      // Another writer confirmed first, or a newer snapshot replaced it: nothing to do.
      if (code === 'snapshot-conflict') return
    }
    const err = new WebsocketProviderError('rejected', `relay rejected: ${code} (${message})`, {
      relayCode: code,
    })
    if (p?.kind === 'membership') p.reject(err)
    else this.emit('error', [err])
  }

  private async resealAndSend(counter: number): Promise<void> {
    const fresh = await this.binding.reseal(counter)
    if (fresh !== undefined) this.sendEnvelope(fresh)
  }

  private retryLater(): void {
    if (this.retryTimer !== undefined) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      // Envelopes that failed were handed out, so the binding sends them as they are.
      this.pump()
    }, this.retryBackoff.next())
  }

  private afterSeq(): void {
    if (!this.synced) return
    if (this.binding.hasGap && this.resyncTimer === undefined) {
      // Deliveries arrive in order; a hole that persists means something was skipped.
      this.resyncTimer = setTimeout(() => {
        this.resyncTimer = undefined
        if (this.binding.hasGap) this.resync()
      }, 250)
    }
    const last = this.binding.lastSeq
    const tail = last - this.binding.snapshotSeq
    if (this.compactAfter > 0 && tail >= this.compactAfter && last >= this.compactAt) {
      if (!this.compacting && this.binding.crypto.canWrite()) void this.compact()
    }
  }

  /** Check a pending snapshot; confirm it to the relay if it matches what it covers. */
  private async review(sealed: Uint8Array, upToSeq: number): Promise<void> {
    const confirmation = await this.binding.reviewSnapshot(sealed, upToSeq)
    if (confirmation === undefined) return
    const ref = this.nextRef++
    this.inflight.set(ref, { kind: 'confirm', upToSeq, confirmation })
    this.send({ type: 'snapshot-confirm', docId: this.binding.docId, ref, upToSeq, confirmation })
  }

  private async compact(): Promise<void> {
    this.compacting = true
    // Whatever happens, the next attempt waits for `compactAfter` more updates.
    this.compactAt = this.binding.lastSeq + this.compactAfter
    try {
      const s = await this.binding.createSnapshot()
      if (!this.synced) {
        this.compacting = false
        return
      }
      const ref = this.nextRef++
      this.inflight.set(ref, { kind: 'snapshot', upToSeq: s.upToSeq })
      this.send({
        type: 'snapshot-upload',
        docId: this.binding.docId,
        ref,
        prevSeq: s.prevSeq,
        upToSeq: s.upToSeq,
        snapshot: s.sealed,
      })
    } catch (e) {
      this.compacting = false
      // No base held (resumed from local state): it compacts after the next confirmed one.
      if ((e as { code?: string }).code !== 'cannot-compact') this.fail(e)
    }
  }

  /** Re-read the log from the last contiguous sequence number (after a gap or withholding). */
  private resync(): void {
    if (!this.synced) return
    this.synced = false
    this.send({ type: 'unsubscribe', docId: this.binding.docId })
    this.subscribe()
  }

  private readonly onEnvelope = (): void => {
    this.pump()
  }

  /**
   * Send queued envelopes in counter order, at most `maxInFlight` unacknowledged at a time, so
   * a long offline queue drains under the relay's rate limit instead of tripping it. Unsent
   * envelopes beyond one are first merged into one (sealed by the binding under a fresh
   * counter; the binding merges only envelopes never handed out, the others may be stored and
   * go again as they are); nothing is sent while that runs, so the relay sees counters in order.
   */
  private pump(): void {
    if (!this.synced || this.coalescing) return
    const unsent = this.binding.pending().filter((e) => !this.sentCounters.has(e.counter))
    if (unsent.length === 0) return
    if (unsent.length > 1) {
      this.coalescing = true
      const epoch = this.epoch
      this.binding
        .coalesce(unsent.map((e) => e.counter))
        .catch((e) => this.fail(e))
        .finally(() => {
          this.coalescing = false
          if (this.epoch === epoch) this.sendUnsent()
        })
      return
    }
    this.sendUnsent()
  }

  private sendUnsent(): void {
    // A merge in progress may drop some of the queue: it sends when it is done.
    if (!this.synced || this.coalescing) return
    for (const e of this.binding.pending()) {
      if (this.sentCounters.size >= this.maxInFlight) return
      this.sendEnvelope(e)
    }
  }

  private sendEnvelope(e: QueuedEnvelope): void {
    if (this.sentCounters.has(e.counter) || !this.open) return
    const ref = this.nextRef++
    const first = this.binding.markSent(e.counter) === 1
    this.inflight.set(ref, { kind: 'update', counter: e.counter, sealed: e.sealed, first })
    this.sentCounters.add(e.counter)
    this.send({ type: 'envelope', docId: this.binding.docId, ref, envelope: e.sealed })
  }

  private send(f: Frame): void {
    if (this.open) this.connection.send(f)
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status === status) return
    this.status = status
    this.emit('status', [{ status }])
  }

  private fail(e: unknown): void {
    this.emit('error', [e instanceof Error ? e : new Error(String(e))])
  }

  private readonly onMisbehaviour = (m: Misbehaviour): void => {
    this.emit('misbehaviour', [m])
  }
  private readonly onUnsynced = (n: number): void => {
    this.emit('unsyncedChanges', [n])
  }
  private readonly onBindingError = (e: unknown): void => this.fail(e)
  private readonly onConnectionStatus = ({ status }: { status: ConnectionStatus }): void => {
    // `connected` comes per document, once the connection told it to subscribe.
    if (this.shouldConnect && status !== 'connected') this.setStatus(status)
  }
  private readonly onConnectionError = (e: Error): void => {
    // A permanent close reaches every document through `closed`; other failures (a token
    // that could not be obtained) are the connection's own.
    if ((e as { code?: string }).code !== 'closed' && this.shouldConnect) this.fail(e)
  }
}
