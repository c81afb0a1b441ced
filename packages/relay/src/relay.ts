import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { DocumentStore, type StorageAdapter, StorageError } from '@valv/storage'
import { CloseCode, decodeFrame, type Frame, RejectCode, WIRE_VERSION, WireError } from '@valv/wire'
import { type RawData, WebSocket, WebSocketServer } from 'ws'
import { AddressLimit, meterPreAuth } from './address-limit.js'
import { RelayAuditLog, type RelayAuditOptions } from './audit-log.js'
import { BlobGate } from './blobs.js'
import type { ClusterBus } from './cluster.js'
import { DocLog } from './doc-log.js'
import { encodeOnce } from './encode-once.js'
import { EraseGate } from './erasure.js'
import { RelayConfigError, RelayError } from './errors.js'
import { type ChangePayload, Hooks, type RelayExtension } from './hooks.js'
import { DEFAULT_LIMITS, type RelayLimits } from './limits.js'
import { jsonLogger, type RelayLogger } from './logger.js'
import { RelayMetrics, renderMetrics } from './metrics.js'
import { PresenceGate } from './presence-gate.js'
import { Readiness, type ReadinessOptions } from './readiness.js'
import { locationAllowed } from './residency.js'
import { Room, type RoomHost, type WriteFrame } from './room.js'
import { Session, type SessionInfo } from './session.js'
import { TickBatch } from './tick-batch.js'
import type { EnvelopeVerifier } from './verifier.js'
import { frameOnce } from './ws-frame.js'

/** Options of {@link Relay}. */
export interface RelayOptions {
  /** Where ciphertext is stored; the relay closes it on {@link Relay.close}. */
  readonly storage: StorageAdapter
  /** Public envelope verification (signature, role); see {@link EnvelopeVerifier}. */
  readonly verifier: EnvelopeVerifier
  /** Hooks, run in priority order. */
  readonly extensions?: readonly RelayExtension[]
  /** Overrides of {@link DEFAULT_LIMITS}. */
  readonly limits?: Partial<RelayLimits>
  /** Allowed `Origin` header values; unset allows all (non-browser clients send none). */
  readonly allowedOrigins?: readonly string[]
  /** Structured log sink; defaults to JSON lines on stdout. */
  readonly logger?: RelayLogger
  /**
   * Scale-out: nodes sharing `storage` (which must append atomically, e.g. PostgreSQL) tell
   * each other what they stored through this bus (e.g. {@link RedisBus}); see
   * `docs/scale-out.md`. The relay closes it on {@link Relay.close}.
   */
  readonly cluster?: ClusterBus
  /**
   * Scale-out: how long (ms) an open document with subscribers may hear nothing from the bus
   * before this node checks the store for what another node stored but did not announce (it
   * died between storing and publishing, or the message was lost). One indexed read per
   * check. Default 5000; 0 turns it off.
   */
  readonly clusterPollMs?: number
  /** Timing of the storage probe behind `GET /readyz`; see {@link ReadinessOptions}. */
  readonly readiness?: ReadinessOptions
  /**
   * The relay's own signed audit trail (erasures, refused writes, membership appends), kept in
   * `storage`; also what enables the `erase` frame. See docs/compliance.md.
   */
  readonly audit?: RelayAuditOptions
  /**
   * Data residency: where `storage` keeps data (`storageLocation` of the storage URL) and the
   * allowed locations. The relay refuses to start (`RelayConfigError('residency')`) when the
   * location is not allowed, and reports both at `/metrics` (`valv_relay_residency_info`).
   * `blobLocation` is where file blobs and snapshots live when they have their own storage
   * (`--blob-storage`, `routeStorage`): checked and reported the same way.
   */
  readonly residency?: {
    readonly location: string
    readonly allowed: readonly string[]
    readonly blobLocation?: string
  }
}

/**
 * The zero-knowledge relay: an ordered log of verified ciphertext per document, forwarded to
 * subscribers. It never decrypts and never builds a `Y.Doc`.
 *
 * @example
 * ```ts
 * const relay = new Relay({ storage: new MemoryStorageAdapter(), verifier: defaultVerifier() })
 * const { port } = await relay.listen(8080, '127.0.0.1')
 * process.on('SIGTERM', () => relay.close())
 * ```
 */
export class Relay {
  /** Live counters, also served at `GET /metrics`. */
  readonly metrics = new RelayMetrics()
  private readonly limits: RelayLimits
  private readonly hooks: Hooks
  private readonly log: RelayLogger
  private readonly docs = new Map<string, Room>()
  private readonly loading = new Map<string, Promise<Room>>()
  private readonly roomHost: RoomHost
  private readonly sessions = new Set<Session>()
  private readonly http: Server
  private readonly wss: WebSocketServer
  private readonly store: DocumentStore
  private readonly addresses: AddressLimit
  private readonly presenceGate: PresenceGate
  private readonly blobs: BlobGate
  private readonly readiness: Readiness
  private readonly erasure: EraseGate
  /** The relay's audit trail, when `options.audit` is set (export it for auditors). */
  readonly audit: RelayAuditLog | undefined
  private readonly batch = new TickBatch()
  private closing = false
  private poller: NodeJS.Timeout | undefined

  constructor(private readonly options: RelayOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits }
    this.hooks = new Hooks(options.extensions ?? [])
    this.log = options.logger ?? jsonLogger
    const residency = options.residency
    for (const location of [residency?.location, residency?.blobLocation]) {
      if (residency && location !== undefined && !locationAllowed(location, residency.allowed)) {
        throw new RelayConfigError(
          'residency',
          `storage location ${location} is outside the allowed locations ${residency.allowed.join(', ')}`,
        )
      }
    }
    this.store = new DocumentStore(options.storage)
    const cluster = options.cluster
    if (cluster && !this.store.atomicAppend) {
      throw new RelayConfigError(
        'invalid-option',
        'several relay nodes need storage that appends atomically (postgres://, memory:)',
      )
    }
    if (cluster) {
      this.metrics.node = cluster.nodeId
      // Messages were lost while the bus was away: every open room reads the store.
      cluster.onResync(() => {
        for (const room of this.docs.values()) void this.catchUp(room)
      })
      const pollMs = options.clusterPollMs ?? 5000
      if (pollMs > 0) {
        this.poller = setInterval(() => this.pollQuietRooms(pollMs), Math.max(10, pollMs / 4))
        this.poller.unref()
      }
    }
    this.roomHost = {
      metrics: this.metrics,
      verifier: options.verifier,
      cluster,
      send: (session, frame) => this.send(session, frame),
      reject: (session, docId, ref, err) => this.reject(session, docId, ref, err),
      stored: () => this.readiness.succeeded(),
      tombstoned: (id) => this.erasure.isErased(id),
      gone: (room, except) => this.evict(room, except),
      changed: (payload: ChangePayload) => {
        if (payload.kind === 'membership') {
          const details = { index: String(payload.seq) }
          this.audited({ type: 'membership.appended', subject: payload.docId, details })
        }
        this.hooks.run('onChange', payload).catch((err) => this.hookFailed('onChange', err))
      },
    }
    this.audit = options.audit && new RelayAuditLog(options.storage, options.audit)
    this.addresses = new AddressLimit(this.limits.maxConnectionsPerIp)
    this.readiness = new Readiness(options.storage, options.readiness)
    this.readiness.start()
    this.presenceGate = new PresenceGate({
      limits: this.limits,
      metrics: this.metrics,
      verifier: options.verifier,
      doc: (id) => this.docs.get(id),
      send: (session, frame) => this.send(session, frame),
      reject: (session, docId, err) => this.reject(session, docId, 0, err),
      publish: (docId, frame) => options.cluster?.publish(docId, frame),
    })
    this.blobs = new BlobGate({
      limits: this.limits,
      metrics: this.metrics,
      verifier: options.verifier,
      store: this.store,
      shared: cluster !== undefined,
      doc: (id) => this.docs.get(id),
      send: (session, frame) => this.send(session, frame),
      erased: (id) => this.erasure.knows(id),
      tombstoned: (id) => this.erasure.isErased(id),
    })
    this.erasure = new EraseGate({
      storage: options.storage,
      store: this.store,
      verifier: options.verifier,
      audit: this.audit,
      doc: (id) => this.docs.get(id),
      send: (session, frame) => this.send(session, frame),
      evict: (room, except) => this.evict(room, except),
      stopFiles: (id) => this.blobs.stop(id),
      announce: (id) => cluster?.publish(id, erasedNotice(id)),
    })
    this.wss = new WebSocketServer({
      noServer: true,
      // Frames up to this size reach us and get a typed 'too-large' error; beyond, ws closes 1009.
      maxPayload: Math.max(this.limits.maxFrameBytes, this.limits.maxSnapshotBytes) + 4096,
    })
    this.http = createServer((req, res) => this.serveHttp(req, res))
    this.http.on('upgrade', (req, socket: Socket, head: Buffer) => {
      if (this.closing) return socket.destroy()
      if (!this.addresses.admit(socket)) {
        this.metrics.refuse('per-ip')
        this.log({ level: 'warn', event: 'refused', reason: 'per-ip' })
        socket.end(
          'HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
        )
        return
      }
      // Counted from the first byte, so an unfinished frame cannot be buffered before auth.
      let session: Session | undefined
      const unmeter = meterPreAuth(socket, head, this.limits.preAuthMaxBytes, () => {
        if (session === undefined) return socket.destroy()
        socket.pause()
        this.closeSession(session, CloseCode.AuthTimeout, 'pre-auth-limit')
      })
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        session = this.accept(ws, req, socket)
        session.unmeter = unmeter
      })
    })
  }

  /** Start listening; resolves with the bound address (use port 0 for an ephemeral port). */
  listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.http.once('error', reject)
      this.http.listen(port, host, () => {
        this.http.off('error', reject)
        this.log({ level: 'info', event: 'listening', port: this.address().port, host })
        resolve(this.address())
      })
    })
  }

  /** The bound address (after {@link Relay.listen}). */
  address(): AddressInfo {
    return this.http.address() as AddressInfo
  }

  /**
   * Close every live session matching `filter` at once with close code 4403 (permanent), like
   * y/hub's recheckAuth. Returns how many were closed.
   *
   * @example
   * ```ts
   * relay.revoke((s) => s.context.user === 'mallory')
   * ```
   */
  revoke(filter: (session: SessionInfo) => boolean): number {
    let n = 0
    for (const s of this.sessions) {
      if (!s.closed && filter(s)) {
        this.closeSession(s, CloseCode.Revoked, 'revoked')
        n++
      }
    }
    return n
  }

  /**
   * Graceful shutdown: stop accepting, wait for in-flight writes to become durable, close
   * every socket with 1012 (retryable), close storage.
   */
  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    this.readiness.stop()
    clearInterval(this.poller)
    // Stop reading, then flush: every queued write settles before sockets close, so every ack
    // that was sent is durable and nothing half-done is left behind.
    for (const s of this.sessions) s.ws.pause()
    await Promise.all([...this.docs.values()].map((d) => d.exclusive(async () => {})))
    const gone = [...this.sessions].map(
      (s) => new Promise((resolve) => s.ws.once('close', resolve)),
    )
    for (const s of [...this.sessions]) {
      s.ws.resume()
      this.closeSession(s, CloseCode.ServiceRestart, 'shutdown')
    }
    await Promise.all(gone)
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve())
      this.http.closeAllConnections()
    })
    await this.options.cluster?.close()
    await this.options.storage.close()
    this.log({ level: 'info', event: 'stopped' })
  }

  private serveHttp(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(this.closing ? 503 : 200, { 'content-type': 'text/plain' })
      res.end(this.closing ? 'closing\n' : 'ok\n')
    } else if (req.method === 'GET' && req.url === '/readyz') {
      // Readiness, not liveness: storage refuses writes, so route new sessions elsewhere.
      const ready = !this.closing && this.readiness.ready
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
      res.end(this.closing ? 'closing\n' : ready ? 'ok\n' : 'storage-failed\n')
    } else if (req.method === 'GET' && req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      const where = this.options.residency
      const label = (v: string) => v.replace(/["\\\n]/g, '_')
      const residency = where
        ? `# HELP valv_relay_residency_info Where storage keeps data, and the allowed locations.\n# TYPE valv_relay_residency_info gauge\nvalv_relay_residency_info{location="${label(where.location)}",allowed="${label(where.allowed.join(','))}"} 1\n${
            where.blobLocation === undefined
              ? ''
              : `valv_relay_residency_info{location="${label(where.blobLocation)}",allowed="${label(where.allowed.join(','))}",store="blobs"} 1\n`
          }`
        : ''
      res.end(renderMetrics(this.metrics) + residency)
    } else {
      res.writeHead(404).end()
    }
  }

  private accept(ws: WebSocket, req: IncomingMessage, socket: Socket): Session {
    const session = new Session(randomUUID(), ws, socket, this.limits)
    this.sessions.add(session)
    this.metrics.connections++
    ws.binaryType = 'nodebuffer'
    const origin = req.headers.origin
    const allowed = this.options.allowedOrigins
    if (origin !== undefined && allowed && !allowed.includes(origin)) {
      this.closeSession(session, CloseCode.OriginForbidden, 'origin')
    }
    const timer = setTimeout(() => {
      if (!session.authenticated) this.closeSession(session, CloseCode.AuthTimeout, 'auth-timeout')
    }, this.limits.authTimeoutMs)
    ws.on('message', (data, isBinary) => this.onMessage(session, data, isBinary, req))
    ws.on('error', () => this.closeSession(session, CloseCode.ProtocolError, 'socket-error'))
    ws.on('close', (code) => {
      clearTimeout(timer)
      this.detach(session)
      this.hooks
        .run('onDisconnect', { sessionId: session.sessionId, context: session.context, code })
        .catch((err) => this.hookFailed('onDisconnect', err))
    })
    // Authentication waits for this: nothing is served before every onConnect hook passed.
    session.connected = this.hooks
      .run('onConnect', { sessionId: session.sessionId, request: req })
      .then(
        () => true,
        () => {
          this.metrics.reject(RejectCode.Unauthorized)
          this.closeSession(session, CloseCode.Unauthenticated, 'connect-veto')
          return false
        },
      )
    return session
  }

  /** Close an authenticated session that stays subscribed to nothing for `idleTimeoutMs`. */
  private watchIdle(session: Session): void {
    clearTimeout(session.idleTimer)
    session.idleTimer = undefined
    const ms = this.limits.idleTimeoutMs
    if (session.closed || !session.authenticated || session.docs.size > 0 || ms <= 0) return
    session.idleTimer = setTimeout(() => {
      if (session.docs.size === 0) this.closeSession(session, CloseCode.Idle, 'idle')
    }, ms)
    session.idleTimer.unref?.()
  }

  private detach(session: Session): void {
    if (!this.sessions.delete(session)) return
    session.closed = true
    clearTimeout(session.idleTimer)
    session.held.length = 0
    this.metrics.connections--
    this.blobs.forget(session)
    for (const id of session.docs) this.unsubscribe(session, id)
  }

  private closeSession(session: Session, code: number, reason: string): void {
    if (session.closed) return
    session.closed = true
    this.metrics.closed(code)
    this.log({ level: 'info', event: 'close', session: session.sessionId, code, reason })
    session.ws.close(code, reason)
    // A peer that never answers the close handshake must not hold resources.
    setTimeout(() => session.ws.terminate(), 2000).unref()
    this.detach(session)
  }

  private send(session: Session, frame: Frame): void {
    if (session.closed) return
    if (session.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      this.closeSession(session, CloseCode.SlowConsumer, 'slow-consumer')
      return
    }
    const bytes = encodeOnce(frame)
    this.metrics.messagesOut++
    this.metrics.bytesOut += bytes.length
    const { ws, socket } = session
    // Open and uncompressed: written to the socket directly, framed once per fan-out (see
    // ws-frame.ts), gathered with the turn's other frames (tick-batch.ts). Otherwise `ws`
    // decides (a closing socket drops the frame).
    if (ws.readyState !== WebSocket.OPEN || ws.extensions !== '') return void ws.send(bytes)
    this.batch.hold(socket)
    socket.write(frameOnce(bytes))
    this.batch.written(socket)
  }

  /**
   * Answer a failed request: a typed error frame to the sender, a counter, a log line (ids and
   * codes only). Every failure on the dispatch path ends here, so none can escape as an
   * unhandled rejection.
   */
  private reject(session: Session, docId: string, ref: number, cause: unknown): void {
    // A document id the storage layout refuses is the client's fault, not a storage failure.
    const err =
      cause instanceof StorageError && cause.code === 'invalid-key'
        ? new RelayError('not-subscribed', 'invalid document id')
        : cause
    const code =
      err instanceof RelayError
        ? err.code
        : err instanceof StorageError
          ? RejectCode.StorageFailed
          : RejectCode.Internal
    if (!(err instanceof RelayError) || err.cause !== undefined) {
      // Only the error's class: driver messages may quote paths or bound values.
      const inner = err instanceof RelayError ? err.cause : err
      const error = inner instanceof Error ? inner.name : 'unknown'
      const event = err instanceof RelayError ? 'storage-error' : 'internal-error'
      if (code === RejectCode.StorageFailed) this.readiness.failed()
      this.log({ level: 'error', event, session: session.sessionId, docId, error })
    }
    this.metrics.reject(code)
    this.log({ level: 'warn', event: 'reject', session: session.sessionId, docId, code, ref })
    if (this.audit && docId !== '' && AUDITED_REJECTS.has(code)) {
      this.audit.refused(docId, code).catch((e) => this.auditFailed(e))
    }
    const message = err instanceof RelayError ? err.message : code
    this.send(session, { type: 'error', docId, ref, code, message })
  }

  private onMessage(session: Session, data: RawData, isBinary: boolean, req: IncomingMessage) {
    try {
      this.receive(session, data, isBinary, req)
    } catch (err) {
      this.reject(session, '', 0, err)
    }
  }

  private receive(session: Session, data: RawData, isBinary: boolean, req: IncomingMessage) {
    if (session.closed) return
    const raw = data instanceof Buffer ? data : Buffer.concat(data as Buffer[])
    this.metrics.messagesIn++
    this.metrics.bytesIn += raw.length
    if (!session.authenticated) {
      session.preAuthMessages++
      session.preAuthBytes += raw.length
      if (
        session.preAuthMessages > this.limits.preAuthMaxMessages ||
        session.preAuthBytes > this.limits.preAuthMaxBytes
      ) {
        return this.closeSession(session, CloseCode.AuthTimeout, 'pre-auth-limit')
      }
    }
    if (!session.messages.take() || !session.bytes.take(raw.length)) {
      return this.closeSession(session, CloseCode.RateLimited, 'rate-limit')
    }
    if (!isBinary) return this.reject(session, '', 0, new RelayError('malformed', 'binary only'))
    let frame: Frame
    try {
      frame = decodeFrame(new Uint8Array(raw.buffer, raw.byteOffset, raw.length))
    } catch (err) {
      const msg = err instanceof WireError ? err.code : 'malformed'
      return this.reject(session, '', 0, new RelayError('malformed', msg))
    }
    if (session.authenticated) return this.run(session, frame, raw.length)
    if (frame.type === 'auth') {
      this.authenticate(session, frame, req).catch((err) => {
        this.hookFailed('authenticate', err)
        this.closeSession(session, CloseCode.Unauthenticated, 'auth-failed')
      })
      return
    }
    if (frame.type === 'ping') return this.send(session, { type: 'pong', nonce: frame.nonce })
    // Sent right behind `auth`: served in order once every hook passed (bounded by the
    // pre-auth limits, which count until then).
    if (session.authenticating) return void session.held.push({ frame, size: raw.length })
    return this.reject(session, '', 0, new RelayError('unauthorized', 'authenticate first'))
  }

  /** Dispatch one frame of an authenticated session; a failure becomes an error frame. */
  private run(session: Session, frame: Frame, size: number): void {
    this.dispatch(session, frame, size).catch((err: unknown) => {
      const docId = 'docId' in frame ? frame.docId : ''
      const ref = 'ref' in frame ? frame.ref : 0
      this.reject(session, docId, ref, err)
    })
  }

  private async authenticate(
    session: Session,
    frame: Extract<Frame, { type: 'auth' }>,
    request: IncomingMessage,
  ) {
    if (session.authenticating) return
    if (frame.version !== WIRE_VERSION) {
      return this.closeSession(session, CloseCode.VersionUnsupported, 'version')
    }
    session.authenticating = true
    if (!(await session.connected) || session.closed) return
    try {
      await this.hooks.run('onAuthenticate', {
        sessionId: session.sessionId,
        token: frame.token,
        request,
        context: session.context,
      })
    } catch {
      this.metrics.reject(RejectCode.Unauthorized)
      return this.closeSession(session, CloseCode.Unauthenticated, 'auth-veto')
    }
    if (session.closed) return
    session.authenticated = true
    session.unmeter()
    this.log({ level: 'info', event: 'authenticated', session: session.sessionId })
    this.send(session, { type: 'auth-ok', sessionId: session.sessionId })
    this.watchIdle(session)
    for (const { frame: held, size } of session.held.splice(0)) this.run(session, held, size)
  }

  private async dispatch(session: Session, frame: Frame, size: number): Promise<void> {
    switch (frame.type) {
      case 'ping':
        return this.send(session, { type: 'pong', nonce: frame.nonce })
      case 'pong':
        return
      case 'subscribe':
        return this.subscribe(session, frame)
      case 'unsubscribe':
        return this.unsubscribe(session, frame.docId)
      case 'presence':
        return this.presenceGate.receive(session, frame, size)
      case 'envelope':
      case 'membership-append':
      case 'snapshot-upload':
      case 'snapshot-confirm':
        return this.write(session, frame, size)
      case 'blob-begin':
      case 'blob-chunk':
      case 'blob-commit':
      case 'blob-fetch':
      case 'blob-delete':
        return this.blobs.receive(session, frame)
      case 'erase':
        return this.erasure.receive(session, frame)
      default:
        return this.reject(session, '', 0, new RelayError('malformed', `unexpected ${frame.type}`))
    }
  }

  private async openDoc(docId: string): Promise<Room> {
    const open = this.docs.get(docId)
    if (open) return open
    const pending = this.loading.get(docId)
    if (pending) return pending
    if (this.docs.size + this.loading.size >= this.limits.maxDocuments) {
      throw new RelayError('limit-exceeded', 'relay holds too many documents')
    }
    const load = (async () => {
      if (await this.erasure.isErased(docId)) throw new RelayError('erased', 'document was erased')
      const room = new Room(new DocLog(this.store, docId), this.limits.retryWindow, this.roomHost)
      const cluster = this.options.cluster
      if (cluster) {
        // Listen before reading the store, so nothing another node stores falls between the
        // two; frames that come first are queued in the room and find their place after it.
        try {
          await cluster.join(docId, (frame) => {
            if (frame.type === 'error' && frame.code === RejectCode.Erased) {
              // Another node erased the document: evict now rather than at the next open.
              this.erasure.erasedElsewhere(docId).catch((err) => this.roomFailed(room, err))
              return
            }
            room.remote(frame).catch((err) => this.roomFailed(room, err))
          })
        } catch (err) {
          this.log({ level: 'warn', event: 'cluster-join-failed', docId, error: errorName(err) })
        }
      }
      try {
        this.metrics.bytesStored += await room.exclusive(() => room.load(this.options.verifier))
      } catch (err) {
        cluster?.leave(docId).catch(() => undefined)
        throw err
      }
      this.docs.set(docId, room)
      this.metrics.documents++
      return room
    })()
    this.loading.set(docId, load)
    try {
      return await load
    } finally {
      this.loading.delete(docId)
    }
  }

  /** Bring `room` up to the store (after the bus lost messages). */
  /**
   * Rooms with subscribers that heard nothing for `quietMs` read the store's heads: a node
   * that died between storing and publishing leaves no message, only the stored entry.
   */
  private pollQuietRooms(quietMs: number): void {
    const now = Date.now()
    for (const room of this.docs.values()) {
      if (room.subscribers.size === 0 || !room.idle || now - room.heardAt < quietMs) continue
      room.heardAt = now
      void this.pollRoom(room)
    }
  }

  /** One quiet room: erased on another node (its bus message lost), or behind the store? */
  private async pollRoom(room: Room): Promise<void> {
    try {
      if (await this.erasure.isErased(room.id)) return await this.erasure.erasedElsewhere(room.id)
      await room.exclusive(() => room.probe())
    } catch (err) {
      this.roomFailed(room, err)
    }
  }

  private catchUp(room: Room): Promise<void> {
    return room.exclusive(() => room.catchUp()).catch((err) => this.roomFailed(room, err))
  }

  private roomFailed(room: Room, err: unknown): void {
    // The next write or join reads the store again.
    room.reload = true
    this.log({ level: 'warn', event: 'catch-up-failed', docId: room.id, error: errorName(err) })
  }

  private async subscribe(session: Session, f: Extract<Frame, { type: 'subscribe' }>) {
    const { docId } = f
    if (session.docs.has(docId)) return
    if (session.docs.size >= this.limits.maxDocsPerConnection) {
      return this.reject(session, docId, 0, new RelayError('limit-exceeded', 'too many documents'))
    }
    try {
      await this.hooks.run('onAuthorize', {
        sessionId: session.sessionId,
        docId,
        context: session.context,
      })
    } catch {
      return this.reject(session, docId, 0, new RelayError('unauthorized', 'access denied'))
    }
    if (session.closed) return
    // The document may be evicted between opening and locking it; then open it again, so
    // there is never more than one live Doc (and one seq counter) per id.
    for (let joined = false; !joined; ) {
      let doc: Room
      try {
        doc = await this.openDoc(docId)
      } catch (err) {
        return this.reject(session, docId, 0, err)
      }
      // Clustered, a room already open here may have been erased on another node whose bus
      // message never arrived; the shared tombstone decides before anyone is served from memory.
      if (this.options.cluster && !doc.erased && (await this.erasure.isErased(docId))) {
        await this.erasure.erasedElsewhere(docId)
        return this.reject(session, docId, 0, new RelayError('erased', 'document was erased'))
      }
      joined = await doc.exclusive(async () => {
        if (this.docs.get(docId) !== doc) return false
        await this.join(session, doc, f)
        return true
      })
    }
  }

  private async join(session: Session, doc: Room, f: Extract<Frame, { type: 'subscribe' }>) {
    const { docId } = f
    if (session.closed || session.docs.has(docId)) return
    if (doc.subscribers.size >= this.limits.maxSubscribersPerDoc) {
      return this.reject(session, docId, 0, new RelayError('limit-exceeded', 'document full'))
    }
    // Checked again here: subscribes in flight together all passed the first check.
    if (session.docs.size >= this.limits.maxDocsPerConnection) {
      return this.reject(session, docId, 0, new RelayError('limit-exceeded', 'too many documents'))
    }
    await doc.join(session, f)
    this.watchIdle(session)
  }

  private unsubscribe(session: Session, docId: string): void {
    session.docs.delete(docId)
    session.presenceAuthors.delete(docId)
    this.watchIdle(session)
    const doc = this.docs.get(docId)
    if (!doc) return
    doc.subscribers.delete(session)
    // Evict idle documents so memory tracks open documents, not every document ever seen.
    if (doc.subscribers.size === 0) {
      void doc.exclusive(async () => {
        if (doc.subscribers.size === 0 && this.docs.get(docId) === doc) {
          this.docs.delete(docId)
          this.metrics.documents--
          this.options.verifier.forget?.(docId)
          // Only memory goes: everything acked is in the store already, so a client that is
          // loading the document elsewhere (or here, next) loses nothing (Hocuspocus #800).
          this.options.cluster?.leave(docId).catch(() => undefined)
        }
      })
    }
  }

  private async write(session: Session, f: WriteFrame, size: number): Promise<void> {
    const limit =
      f.type === 'snapshot-upload' ? this.limits.maxSnapshotBytes : this.limits.maxFrameBytes
    if (size > limit) {
      return this.reject(session, f.docId, f.ref, new RelayError('too-large', 'frame too large'))
    }
    const doc = this.docs.get(f.docId)
    if (!doc || !session.docs.has(f.docId)) {
      return this.reject(
        session,
        f.docId,
        f.ref,
        new RelayError('not-subscribed', 'subscribe first'),
      )
    }
    await doc.write(session, f)
  }

  /** An erased room leaves memory; its other subscribers learn it is gone. */
  private evict(room: Room, except: Session | undefined): void {
    const docId = room.id
    for (const s of room.subscribers) {
      s.docs.delete(docId)
      s.presenceAuthors.delete(docId)
      if (s !== except) {
        this.send(s, { type: 'error', docId, ref: 0, code: 'erased', message: 'document erased' })
      }
      this.watchIdle(s)
    }
    room.subscribers.clear()
    if (this.docs.get(docId) === room) {
      this.docs.delete(docId)
      this.metrics.documents--
    }
    this.options.verifier.forget?.(docId)
    this.options.cluster?.leave(docId).catch(() => undefined)
    this.log({ level: 'info', event: 'erased', docId })
  }

  private audited(event: Parameters<RelayAuditLog['append']>[0]): void {
    this.audit?.append(event).catch((err) => this.auditFailed(err))
  }

  private auditFailed(err: unknown): void {
    this.log({ level: 'error', event: 'audit-failed', error: errorName(err) })
  }

  private hookFailed(hook: string, err: unknown): void {
    const name = err instanceof Error ? err.name : 'unknown'
    this.log({ level: 'warn', event: 'hook-failed', hook, error: name })
  }
}

/** Refusals the relay's audit trail records: someone tried what their role does not allow. */
const AUDITED_REJECTS: ReadonlySet<string> = new Set([
  RejectCode.Forbidden,
  RejectCode.BadSignature,
  RejectCode.Unauthorized,
  RejectCode.Erased,
])

/**
 * What a node publishes on the bus after it erased a document (docs/protocol.md, "Relay to
 * relay"): the same frame the document's subscribers get.
 */
function erasedNotice(docId: string): Frame {
  return { type: 'error', docId, ref: 0, code: RejectCode.Erased, message: 'document erased' }
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'unknown'
}
