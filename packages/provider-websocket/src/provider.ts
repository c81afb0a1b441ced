import { EncryptedDoc, type Misbehaviour } from '@valv/core'
import { type Frame, isRetryableClose } from '@valv/wire'
import { ObservableV2 } from 'lib0/observable'
import { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { adoptAwareness } from './awareness-clock.js'
import { type ConnectionStatus, type DocumentChannel, RelayConnection } from './connection.js'
import { DocumentSync, type MembershipFrame } from './document-sync.js'
import { WebsocketProviderError } from './errors.js'
import { PresenceChannel } from './presence-channel.js'
import type { WebsocketProviderEvents, WebsocketProviderOptions } from './provider-options.js'

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
  get synced(): boolean {
    return this.sync.synced
  }
  /** The relay's id of the current connection (from `auth-ok`); undefined while disconnected. */
  get sessionId(): string | undefined {
    return this.open ? this.connection.sessionId : undefined
  }

  private readonly owned: boolean
  private readonly ownsConnection: boolean
  private readonly presence: PresenceChannel
  private readonly sync: DocumentSync
  private readonly releaseAwareness: (() => void) | undefined
  /** Whether this document is attached to the connection (connect() was called). */
  private shouldConnect = false
  /** Whether the connection told this document to subscribe (socket authenticated). */
  private open = false
  /** Counts sockets: frames queued from an earlier one must not act on the next. */
  private epoch = 0
  private destroyed = false
  private inbound: Promise<unknown> = Promise.resolve()
  private readonly listeners = new Set<(frame: Frame) => boolean>()

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
    // Ours alone: its housekeeping joins the shared tick (no timer of its own per document).
    if (options.awareness === undefined) this.releaseAwareness = adoptAwareness(this.awareness)
    this.binding.registerOrigin(this)
    this.sync = new DocumentSync(
      {
        binding: this.binding,
        origin: this,
        isOpen: () => this.open,
        epoch: () => this.epoch,
        send: (f) => this.send(f),
        misbehaviour: (m) => this.emit('misbehaviour', [m]),
        fail: (e) => this.fail(e),
        announce: () => {
          this.emit('synced', [true])
          this.presence.start()
        },
      },
      {
        compactAfter: options.compactAfter ?? 500,
        maxInFlight: Math.max(1, options.maxInFlight ?? 32),
        ...(options.backoff ? { backoff: options.backoff } : {}),
      },
    )
    this.presence = new PresenceChannel(
      {
        binding: this.binding,
        awareness: this.awareness,
        isSynced: () => this.synced,
        send: (payload) => this.send({ type: 'presence', docId: this.binding.docId, payload }),
        misbehaviour: (m) => this.emit('misbehaviour', [m]),
        resync: () => this.sync.resync(),
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
    if (this.open && this.sync.announced) this.presence.leave()
    this.connection.detach(this)
    this.closed(1000)
  }

  /**
   * Append a signed membership entry at `index` (compare-and-append on the relay). Resolves
   * once the relay made it durable; rejects with `rejected` (`membership-conflict`, …).
   */
  appendMembership(index: number, entry: Uint8Array): Promise<void> {
    if (!this.synced) {
      return Promise.reject(
        new WebsocketProviderError('invalid-argument', 'not connected and synced'),
      )
    }
    return this.sync.appendMembership(index, entry)
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
    this.sync.destroy()
    this.binding.off('envelope', this.onEnvelope)
    this.binding.off('misbehaviour', this.onMisbehaviour)
    this.binding.off('unsynced', this.onUnsynced)
    this.binding.off('error', this.onBindingError)
    this.connection.off('status', this.onConnectionStatus)
    this.connection.off('error', this.onConnectionError)
    if (this.ownsConnection) this.connection.destroy()
    this.releaseAwareness?.()
    if (this.options.awareness === undefined) this.awareness.destroy()
    super.destroy()
    if (this.owned) await this.binding.destroy()
  }

  /** {@link DocumentChannel}: the socket is authenticated; subscribe. */
  opened(): void {
    if (!this.shouldConnect || this.destroyed) return
    this.open = true
    this.setStatus('connected')
    this.sync.subscribe()
  }

  /** {@link DocumentChannel}: a frame for this document, handled after the ones before it. */
  receive(frame: Frame): void {
    const epoch = this.epoch
    if (frame.type === 'membership') {
      // A catch-up arrives as a run of membership frames: those that queue up together are
      // applied in one call, so their signatures are checked in parallel.
      const batch = this.membershipBatch
      const last = batch?.at(-1)
      if (batch !== undefined && last !== undefined && frame.index === last.index + 1) {
        batch.push(frame)
        return
      }
      const frames: MembershipFrame[] = [frame]
      this.membershipBatch = frames
      this.enqueue(epoch, () => {
        if (this.membershipBatch === frames) this.membershipBatch = undefined
        return this.handleMembership(frames)
      })
      return
    }
    this.membershipBatch = undefined
    this.enqueue(epoch, () => this.handle(frame))
  }

  /** Membership frames received but not yet handled, which a next consecutive one may join. */
  private membershipBatch: MembershipFrame[] | undefined

  private enqueue(epoch: number, run: () => Promise<void>): void {
    // Frames queue behind slow ones (decryption); a frame of a socket that was replaced
    // meanwhile must not act on the new one (an old `synced` would send before subscribing).
    this.inbound = this.inbound
      .then(() => (this.epoch === epoch && this.open ? run() : undefined))
      .catch((e) => this.fail(e))
  }

  private handleMembership(frames: MembershipFrame[]): Promise<void> {
    // Listeners see each frame, as they see every other; what they take is not applied here.
    const left = frames.filter(
      (f) => f.docId === this.binding.docId && ![...this.listeners].some((listener) => listener(f)),
    )
    return this.sync.membership(left)
  }

  /** {@link DocumentChannel}: the socket closed with `code`. */
  closed(code: number): void {
    if (!this.open) {
      this.reportPermanent(code)
      return
    }
    this.open = false
    this.epoch++
    this.membershipBatch = undefined
    const wasSynced = this.sync.reset(code)
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

  private async handle(f: Frame): Promise<void> {
    if ('docId' in f && f.docId !== this.binding.docId && f.type !== 'error') return
    for (const listener of this.listeners) if (listener(f)) return
    if (f.type === 'presence') {
      await this.presence.receive(f.payload).catch(() => undefined)
      return
    }
    return this.sync.handle(f)
  }

  private readonly onEnvelope = (): void => {
    this.sync.pump()
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
