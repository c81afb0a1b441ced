import {
  type BatchOptions,
  type DocumentCrypto,
  EncryptedDoc,
  type Misbehaviour,
  type QueuedEnvelope,
} from '@valv/core'
import type { StorageAdapter } from '@valv/storage'
import { decodeFrame, encodeFrame, type Frame, isRetryableClose, WIRE_VERSION } from '@valv/wire'
import { ObservableV2 } from 'lib0/observable'
import { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { Backoff, type BackoffOptions } from './backoff.js'
import { WebsocketProviderError } from './errors.js'
import { PresenceChannel, type PresenceOptions } from './presence-channel.js'

/** The subset of the WebSocket API the provider uses (browser, Node 22, or `ws`). */
export interface WebSocketLike {
  binaryType: string
  readonly readyState: number
  onopen: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onclose: ((ev: { code: number }) => void) | null
  onerror: ((ev: unknown) => void) | null
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
}

/** A WebSocket constructor (`globalThis.WebSocket`, or `ws` in Node 20). */
export type WebSocketConstructor = new (url: string) => WebSocketLike

/** Connection state reported by the `status` event. */
export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected'

/** Options of {@link WebsocketProvider}. Pass `binding`, or `doc` + `docId` + `document`. */
export type WebsocketProviderOptions = {
  /** Relay URL. */
  readonly url?: string
  /** Several relay URLs, tried in turn on failure (failover). */
  readonly urls?: readonly string[]
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
  | { readonly kind: 'update'; readonly counter: number; readonly sealed: Uint8Array }
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
 * `awareness` for cursor plugins, sent encrypted and signed. It reconnects with exponential
 * backoff and jitter, fails over between `urls`, keeps an offline queue, compacts with signed
 * snapshots and raises `misbehaviour` when the relay withholds, replays or rolls back.
 *
 * @example
 * ```ts
 * import WebSocket from 'ws' // Node 20 only; browsers and Node 22 have a global WebSocket
 * const provider = new WebsocketProvider({
 *   url: 'wss://relay.example.se', doc, docId: 'minutes-2026', document, storage,
 *   token: () => auth.accessToken(), WebSocketPolyfill: WebSocket,
 * })
 * provider.on('misbehaviour', (m) => alert(`relay ${m.kind}`))
 * await provider.whenSynced()
 * ```
 */
export class WebsocketProvider extends ObservableV2<WebsocketProviderEvents> {
  /** The encrypted binding this provider transports. */
  readonly binding: EncryptedDoc
  /** The bound document. */
  readonly doc: Y.Doc
  /** Shared cursors and presence (y-protocols), carried encrypted. */
  readonly awareness: Awareness
  /** Current connection state. */
  status: ConnectionStatus = 'disconnected'
  /** Whether the document is caught up with the relay on the current connection. */
  synced = false

  private readonly urls: readonly string[]
  private urlIndex = 0
  private readonly WS: WebSocketConstructor
  private readonly owned: boolean
  private readonly presence: PresenceChannel
  private readonly backoff: Backoff
  private readonly compactAfter: number
  private ws: WebSocketLike | undefined
  private shouldConnect = false
  private destroyed = false
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined
  private resyncTimer: ReturnType<typeof setTimeout> | undefined
  /** Resends the queue after the relay's storage failed (`storage-failed`), with backoff. */
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private readonly retryBackoff: Backoff
  private inbound: Promise<unknown> = Promise.resolve()
  private readonly inflight = new Map<number, Pending>()
  private readonly sentCounters = new Set<number>()
  private nextRef = 1
  private compacting = false
  /** Membership entries the relay proved it holds in the current subscription. */
  private membershipSeen = 0
  /** No compaction before this sequence number (after one was sent, refused or impossible). */
  private compactAt = 0
  private announced = false
  /** The browser said it is offline: reconnect on `online`, not on a timer. */
  private offline = false

  /** Create the provider (and its binding unless `binding` is given); connects by default. */
  constructor(private readonly options: WebsocketProviderOptions) {
    super()
    const urls = options.urls ?? (options.url !== undefined ? [options.url] : [])
    if (urls.length === 0) throw new WebsocketProviderError('invalid-argument', 'url required')
    const WS =
      options.WebSocketPolyfill ??
      (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ??
      undefined
    if (WS === undefined) {
      throw new WebsocketProviderError('no-websocket', 'pass WebSocketPolyfill (e.g. ws)')
    }
    this.urls = urls
    this.WS = WS
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
    this.backoff = new Backoff(options.backoff)
    this.retryBackoff = new Backoff(options.backoff)
    this.compactAfter = options.compactAfter ?? 500
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
    if (typeof window !== 'undefined' && typeof window.addEventListener === 'function') {
      window.addEventListener('online', this.onOnline)
      window.addEventListener('offline', this.onOffline)
    }
    if (options.connect !== false) this.connect()
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

  /** Open the connection (and keep reconnecting after retryable failures). */
  connect(): void {
    if (this.destroyed) return
    this.shouldConnect = true
    if (this.ws === undefined && this.reconnectTimer === undefined) void this.open()
  }

  /** Close the connection and stop reconnecting; local edits keep queueing. */
  disconnect(): void {
    this.shouldConnect = false
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer)
    this.reconnectTimer = undefined
    const ws = this.ws
    if (ws !== undefined) {
      if (this.announced) this.presence.leave()
      this.onClosed(ws, 1000)
      retire(ws, 1000)
    }
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
    if (typeof window !== 'undefined' && typeof window.removeEventListener === 'function') {
      window.removeEventListener('online', this.onOnline)
      window.removeEventListener('offline', this.onOffline)
    }
    if (this.options.awareness === undefined) this.awareness.destroy()
    super.destroy()
    if (this.owned) await this.binding.destroy()
  }

  private async open(): Promise<void> {
    try {
      await this.binding.ready
    } catch (e) {
      this.emit('error', [e as Error])
      return
    }
    if (!this.shouldConnect || this.destroyed || this.ws !== undefined) return
    const url = this.urls[this.urlIndex % this.urls.length] as string
    const ws = new this.WS(url)
    this.ws = ws
    ws.binaryType = 'arraybuffer'
    this.setStatus('connecting')
    ws.onopen = () => void this.authenticate(ws)
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return
      let frame: Frame
      try {
        frame = decodeFrame(new Uint8Array(ev.data as ArrayBuffer))
      } catch {
        ws.close(4400)
        return
      }
      // Frames queue behind slow ones (decryption); a frame of a socket that was replaced
      // meanwhile must not act on the new one (an old `synced` would send before auth).
      this.inbound = this.inbound
        .then(() => (this.ws === ws ? this.handle(frame) : undefined))
        .catch((e) => this.fail(e))
    }
    ws.onclose = (ev) => this.onClosed(ws, ev.code)
    ws.onerror = () => undefined
  }

  private async authenticate(ws: WebSocketLike): Promise<void> {
    const t = this.options.token
    const token = typeof t === 'function' ? await t() : (t ?? '')
    if (this.ws !== ws) return
    this.send({ type: 'auth', version: WIRE_VERSION, token })
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
    switch (f.type) {
      case 'auth-ok':
        this.backoff.reset()
        this.setStatus('connected')
        this.subscribe()
        return
      case 'membership':
        this.membershipSeen = Math.max(this.membershipSeen, f.index + 1)
        try {
          await b.crypto.applyMembership?.(f.index, f.entry)
        } catch (e) {
          // A different entry where one was verified: the relay forked the chain.
          if ((e as { code?: string }).code !== 'fork-detected') throw e
          this.emit('misbehaviour', [{ kind: 'fork', message: (e as Error).message }])
          return
        }
        b.retryHeld()
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
      case 'ping':
        this.send({ type: 'pong', nonce: f.nonce })
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
    for (const e of this.binding.pending()) this.sendEnvelope(e)
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
    } else if (p.kind === 'snapshot') {
      // Stored; it becomes the base once confirmed (a `snapshot-confirm` frame).
      this.compacting = false
    } else if (p.kind === 'confirm') {
      void this.binding.confirmationReceived(p.upToSeq, p.confirmation).catch((e) => this.fail(e))
    } else {
      // The relay forwards an entry to the other subscribers only; learn our own here.
      const crypto = this.binding.crypto
      void (crypto.applyMembership?.(p.index, p.entry) ?? Promise.resolve()).then(() => {
        this.binding.retryHeld()
        p.resolve()
      }, p.reject)
    }
  }

  private async onReject(ref: number, code: string, message: string): Promise<void> {
    const p = this.inflight.get(ref)
    this.inflight.delete(ref)
    if (p?.kind === 'update') {
      this.sentCounters.delete(p.counter)
      if (code === 'stale') {
        // Another session of this author used the counter: seal again under a fresh one.
        const fresh = await this.binding.reseal(p.counter)
        if (fresh !== undefined) this.sendEnvelope(fresh)
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

  private retryLater(): void {
    if (this.retryTimer !== undefined) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      if (this.synced) for (const e of this.binding.pending()) this.sendEnvelope(e)
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

  private readonly onEnvelope = (e: QueuedEnvelope): void => {
    if (this.synced) this.sendEnvelope(e)
  }

  private sendEnvelope(e: QueuedEnvelope): void {
    if (this.sentCounters.has(e.counter) || this.ws?.readyState !== OPEN) return
    const ref = this.nextRef++
    this.inflight.set(ref, { kind: 'update', counter: e.counter, sealed: e.sealed })
    this.sentCounters.add(e.counter)
    this.send({ type: 'envelope', docId: this.binding.docId, ref, envelope: e.sealed })
  }

  private send(f: Frame): void {
    const ws = this.ws
    if (ws !== undefined && ws.readyState === 1) ws.send(encodeFrame(f))
  }

  private onClosed(ws: WebSocketLike, code: number): void {
    if (this.ws !== ws) return
    this.ws = undefined
    ws.onopen = ws.onmessage = ws.onclose = null
    ws.onerror = () => undefined
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
    if (!this.shouldConnect || this.destroyed || this.offline) return
    if (!isRetryableClose(code)) {
      this.shouldConnect = false
      this.emit('error', [
        new WebsocketProviderError('closed', `relay closed the connection (${code})`, {
          closeCode: code,
        }),
      ])
      return
    }
    this.urlIndex++
    const delay = this.backoff.next(code === 4529 ? 8 : 1)
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      void this.open()
    }, delay)
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
  private readonly onOnline = (): void => {
    this.offline = false
    this.backoff.reset()
    if (this.shouldConnect && this.ws === undefined) {
      if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer)
      this.reconnectTimer = undefined
      void this.open()
    }
  }
  private readonly onOffline = (): void => {
    this.offline = true
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer)
    this.reconnectTimer = undefined
    const ws = this.ws
    if (ws !== undefined) {
      this.onClosed(ws, 1006)
      retire(ws, 4000)
    }
  }
}

const CONNECTING = 0
const OPEN = 1

/**
 * Close a socket the provider no longer uses, whatever its state. Closing a CONNECTING socket
 * makes `ws` emit an error event (and browsers log one), so such a socket is closed as soon as
 * it opens instead; a no-op `onerror` stays attached because `ws` throws on unhandled errors.
 */
function retire(ws: WebSocketLike, code: number): void {
  ws.onmessage = null
  ws.onclose = null
  ws.onerror = () => undefined
  if (ws.readyState === CONNECTING) {
    ws.onopen = () => ws.close(code)
    return
  }
  ws.onopen = null
  if (ws.readyState === OPEN) ws.close(code)
}
