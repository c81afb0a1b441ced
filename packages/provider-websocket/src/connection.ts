import { decodeFrame, encodeFrame, type Frame, isRetryableClose, WIRE_VERSION } from '@valv/wire'
import { ObservableV2 } from 'lib0/observable'
import { Backoff, type BackoffOptions } from './backoff.js'
import { WebsocketProviderError } from './errors.js'
import { Pacer, type PacingOptions } from './pacer.js'

/**
 * An event handler property, compared bivariantly (as methods are) so that the DOM's and `ws`'s
 * handlers, which take richer event types, both fit.
 *
 * @inline
 */
type Handler<E> = { bivarianceHack(ev: E): void }['bivarianceHack'] | null

/** The subset of the WebSocket API the connection uses (browser, Node 22, or `ws`). */
export interface WebSocketLike {
  binaryType: string
  readonly readyState: number
  onopen: Handler<unknown>
  onmessage: Handler<{ data: unknown }>
  onclose: Handler<{ code: number }>
  onerror: Handler<unknown>
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
}

/** A WebSocket constructor (`globalThis.WebSocket`, or `ws` in Node 20). */
export type WebSocketConstructor = new (url: string) => WebSocketLike

/** Connection state reported by the `status` event. */
export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected'

/** Options of {@link RelayConnection}. */
export interface RelayConnectionOptions {
  /** Relay URL, or several tried in turn when one fails (failover). */
  readonly url: string | readonly string[]
  /** Credential for the relay's `onAuthenticate` hooks (e.g. an OIDC access token). */
  readonly token?: string | (() => string | Promise<string>)
  /** WebSocket implementation where there is no global one (Node 20: `ws`). */
  readonly WebSocketPolyfill?: WebSocketConstructor
  /** Reconnect timing. */
  readonly backoff?: BackoffOptions
  /**
   * Milliseconds without any frame from the relay after which the path counts as dead: the
   * socket is dropped and a new one opened (default 20 000). Pings keep a quiet but healthy
   * connection talking.
   */
  readonly timeoutMs?: number
  /** Milliseconds of silence after which a ping is sent (default a third of `timeoutMs`). */
  readonly pingMs?: number
  /** Frames per second this connection sends at most (kept below the relay's rate limit). */
  readonly pacing?: PacingOptions
}

/**
 * One document's end of a {@link RelayConnection} (a {@link WebsocketProvider} implements it).
 * The connection calls it only for frames that carry its `docId`.
 */
export interface DocumentChannel {
  /** The relay document id this channel subscribes. */
  readonly docId: string
  /** The socket is authenticated: subscribe now (called again after every reconnect). */
  opened(): void
  /** A frame for this document (or an error frame not tied to any document). */
  receive(frame: Frame): void
  /** The socket is gone (`code`); the connection reconnects by itself if it may. */
  closed(code: number): void
}

/** Events of {@link RelayConnection}. */
export interface RelayConnectionEvents {
  /** Connection state changed. */
  status: (e: { status: ConnectionStatus }) => void
  /** The relay closed for good (a permanent close code), or a token could not be obtained. */
  error: (error: Error) => void
}

const CONNECTING = 0
const OPEN = 1
/** The relay closes an authenticated socket that holds no subscription for a while. */
const IDLE_CLOSE = 4408

/**
 * One WebSocket to a relay shared by every document of an identity (like Hocuspocus'
 * `HocuspocusProviderWebsocket`): it authenticates once, keeps one backoff, fails over between
 * URLs, pings, notices a dead path by silence, and routes each frame to its document's
 * {@link DocumentChannel} through a `Map` lookup, so a frame costs nothing in other documents.
 * It is reference counted: it opens when the first document attaches and closes when the last
 * one detaches (the relay would close an empty socket anyway, with 4408).
 *
 * @example
 * ```ts
 * const connection = new RelayConnection({ url: ['wss://a.example.se', 'wss://b.example.se'] })
 * const { docId } = session
 * const minutes = new WebsocketProvider({ connection, doc, docId, document: session })
 * // A second document on the same socket:
 * const budget = await DocumentSession.create(me)
 * const budgetProvider = new WebsocketProvider({
 *   connection,
 *   doc: new Y.Doc(),
 *   docId: budget.docId,
 *   document: budget,
 * })
 * ```
 */
export class RelayConnection extends ObservableV2<RelayConnectionEvents> {
  /** Current state of the socket. */
  status: ConnectionStatus = 'disconnected'
  /** Sockets opened so far (for metrics and tests). */
  opens = 0

  private readonly urls: readonly string[]
  private urlIndex = 0
  private readonly WS: WebSocketConstructor
  private readonly backoff: Backoff
  private readonly timeoutMs: number
  private readonly pingMs: number
  private readonly channels = new Map<string, DocumentChannel>()
  private readonly pacer: Pacer
  private ws: WebSocketLike | undefined
  private authenticated = false
  /** The relay's id of the current socket (from `auth-ok`); undefined while not authenticated. */
  sessionId: string | undefined
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined
  private watchdog: ReturnType<typeof setInterval> | undefined
  private lastHeard = 0
  private lastSent = 0
  private nonce = 0
  private rateLimited = false
  private offline = false
  private destroyed = false

  /** Create the connection; it opens once a document attaches. */
  constructor(private readonly options: RelayConnectionOptions) {
    super()
    const urls = typeof options.url === 'string' ? [options.url] : [...(options.url ?? [])]
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
    this.backoff = new Backoff(options.backoff)
    this.timeoutMs = options.timeoutMs ?? 20_000
    this.pingMs = options.pingMs ?? Math.max(1, Math.floor(this.timeoutMs / 3))
    this.pacer = new Pacer((bytes) => {
      if (this.ws?.readyState === OPEN) this.ws.send(bytes)
    }, options.pacing)
    if (typeof window !== 'undefined' && typeof window.addEventListener === 'function') {
      window.addEventListener('online', this.onOnline)
      window.addEventListener('offline', this.onOffline)
    }
  }

  /** Documents attached. */
  get size(): number {
    return this.channels.size
  }

  /** Whether the socket is open and authenticated (documents may subscribe). */
  get ready(): boolean {
    return this.authenticated && this.ws?.readyState === OPEN
  }

  /**
   * Attach a document (one channel per `docId`); opens the socket if needed, or subscribes at
   * once if it is already authenticated.
   */
  attach(channel: DocumentChannel): void {
    if (this.destroyed) throw new WebsocketProviderError('destroyed', 'connection destroyed')
    const held = this.channels.get(channel.docId)
    if (held === channel) return
    if (held !== undefined) {
      throw new WebsocketProviderError('invalid-argument', `${channel.docId} is already attached`)
    }
    this.channels.set(channel.docId, channel)
    if (this.ready) channel.opened()
    else if (this.ws === undefined && this.reconnectTimer === undefined) void this.open()
  }

  /** Detach a document: unsubscribes it, and closes the socket if it was the last one. */
  detach(channel: DocumentChannel): void {
    if (this.channels.get(channel.docId) !== channel) return
    this.channels.delete(channel.docId)
    if (this.channels.size > 0) {
      this.send({ type: 'unsubscribe', docId: channel.docId })
      return
    }
    this.stop(1000)
  }

  /** Send a frame if the socket is authenticated; false if it was not sent. */
  send(frame: Frame): boolean {
    const ws = this.ws
    if (ws === undefined || ws.readyState !== OPEN) return false
    if (!this.authenticated) return false
    this.pacer.send(encodeFrame(frame))
    this.lastSent = Date.now()
    return true
  }

  /** Close the socket and stop; attached documents see `closed` and stay attached. */
  override destroy(): void {
    if (this.destroyed) return
    this.stop(1000)
    this.destroyed = true
    if (typeof window !== 'undefined' && typeof window.removeEventListener === 'function') {
      window.removeEventListener('online', this.onOnline)
      window.removeEventListener('offline', this.onOffline)
    }
    super.destroy()
  }

  private stop(code: number): void {
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer)
    this.reconnectTimer = undefined
    const ws = this.ws
    if (ws !== undefined) {
      this.closed(ws, code)
      retire(ws, code)
    }
  }

  private async open(): Promise<void> {
    if (this.destroyed || this.ws !== undefined || this.channels.size === 0 || this.offline) return
    const url = this.urls[this.urlIndex % this.urls.length] as string
    const ws = new this.WS(url)
    this.ws = ws
    this.opens++
    this.authenticated = false
    this.sessionId = undefined
    ws.binaryType = 'arraybuffer'
    this.setStatus('connecting')
    this.lastHeard = Date.now()
    this.startWatchdog()
    ws.onopen = () => void this.authenticate(ws)
    ws.onmessage = (ev) => this.onMessage(ws, ev.data)
    ws.onclose = (ev) => this.closed(ws, ev.code)
    ws.onerror = () => undefined
  }

  private async authenticate(ws: WebSocketLike): Promise<void> {
    const t = this.options.token
    let token: string
    try {
      token = typeof t === 'function' ? await t() : (t ?? '')
    } catch (e) {
      this.emit('error', [e instanceof Error ? e : new Error(String(e))])
      this.drop(ws)
      return
    }
    if (this.ws !== ws || ws.readyState !== OPEN) return
    ws.send(encodeFrame({ type: 'auth', version: WIRE_VERSION, token }))
    this.lastSent = Date.now()
  }

  private onMessage(ws: WebSocketLike, data: unknown): void {
    if (this.ws !== ws) return
    this.lastHeard = Date.now()
    let frame: Frame
    try {
      frame = decodeFrame(new Uint8Array(data as ArrayBuffer))
    } catch {
      ws.close(4400)
      return
    }
    switch (frame.type) {
      case 'auth-ok':
        this.sessionId = frame.sessionId
        this.authenticated = true
        this.backoff.reset()
        this.rateLimited = false
        this.setStatus('connected')
        for (const c of [...this.channels.values()]) if (this.ws === ws) c.opened()
        return
      case 'ping':
        this.send({ type: 'pong', nonce: frame.nonce })
        return
      case 'pong':
        return
      default:
    }
    const docId = 'docId' in frame ? frame.docId : ''
    const channel = this.channels.get(docId)
    if (channel !== undefined) channel.receive(frame)
    else if (docId === '' && frame.type === 'error') {
      // Not about one document (a malformed request): every document may have caused it.
      for (const c of [...this.channels.values()]) c.receive(frame)
    }
  }

  /**
   * Checks the path: a ping after `pingMs` of quiet, and a dead path (no frame for
   * `timeoutMs`, e.g. a NAT that dropped the flow without a FIN) is dropped and reopened.
   */
  private startWatchdog(): void {
    if (this.watchdog !== undefined) return
    const tick = Math.max(1, Math.min(this.pingMs, this.timeoutMs) / 2)
    this.watchdog = setInterval(() => {
      const ws = this.ws
      if (ws === undefined) return
      const now = Date.now()
      if (now - this.lastHeard > this.timeoutMs) {
        this.drop(ws)
        return
      }
      if (this.ready && now - Math.max(this.lastHeard, this.lastSent) >= this.pingMs) {
        this.nonce = (this.nonce + 1) % 0x7fffffff
        this.send({ type: 'ping', nonce: this.nonce })
      }
    }, tick)
    ;(this.watchdog as { unref?: () => void }).unref?.()
  }

  private stopWatchdog(): void {
    if (this.watchdog !== undefined) clearInterval(this.watchdog)
    this.watchdog = undefined
  }

  /** Give up on a socket that does not answer; reconnect as after an abnormal close. */
  private drop(ws: WebSocketLike): void {
    this.closed(ws, 1006)
    retire(ws, 4000)
  }

  private closed(ws: WebSocketLike, code: number): void {
    if (this.ws !== ws) return
    this.ws = undefined
    this.authenticated = false
    this.sessionId = undefined
    this.pacer.reset()
    ws.onopen = ws.onmessage = ws.onclose = null
    ws.onerror = () => undefined
    this.stopWatchdog()
    this.setStatus('disconnected')
    for (const c of [...this.channels.values()]) c.closed(code)
    if (this.destroyed || this.channels.size === 0 || this.offline || code === 1000) return
    // 4408: the relay found this socket subscribed to nothing; documents still want one.
    if (!isRetryableClose(code) && code !== IDLE_CLOSE) {
      this.emit('error', [
        new WebsocketProviderError('closed', `relay closed the connection (${code})`, {
          closeCode: code,
        }),
      ])
      return
    }
    this.urlIndex++
    // After a rate-limit close, wait longer: the relay's token bucket needs time to refill.
    if (code === 4529) this.rateLimited = true
    const delay = this.backoff.next(this.rateLimited ? 8 : 1)
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

  private readonly onOnline = (): void => {
    this.offline = false
    this.backoff.reset()
    if (this.ws === undefined && this.channels.size > 0) {
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
    if (ws !== undefined) this.drop(ws)
  }
}

/**
 * Close a socket the connection no longer uses, whatever its state. Closing a CONNECTING socket
 * makes `ws` emit an error event (and browsers log one), so such a socket is closed as soon as
 * it opens instead; a no-op `onerror` stays attached because `ws` throws on unhandled errors.
 * A socket on a dead path never finishes the close handshake: `ws` sockets are terminated.
 */
function retire(ws: WebSocketLike, code: number): void {
  ws.onmessage = null
  ws.onclose = null
  ws.onerror = () => undefined
  const terminate = (ws as { terminate?: () => void }).terminate
  if (ws.readyState === CONNECTING) {
    // A handshake on a dead path never completes: `ws` can abort it (its error is ignored).
    if (code !== 1000 && terminate !== undefined) terminate.call(ws)
    else ws.onopen = () => ws.close(code)
    return
  }
  ws.onopen = null
  if (ws.readyState === OPEN) ws.close(code)
  if (code !== 1000) terminate?.call(ws)
}
