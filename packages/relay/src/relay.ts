import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DocumentStore, type StorageAdapter, StorageError } from '@valv/storage'
import {
  CloseCode,
  decodeFrame,
  encodeFrame,
  type Frame,
  RejectCode,
  WIRE_VERSION,
  WireError,
} from '@valv/wire'
import { type RawData, type WebSocket, WebSocketServer } from 'ws'
import { Doc } from './doc.js'
import { DocLog } from './doc-log.js'
import { RelayError } from './errors.js'
import { Hooks, type RelayExtension } from './hooks.js'
import { DEFAULT_LIMITS, type RelayLimits } from './limits.js'
import { jsonLogger, type RelayLogger } from './logger.js'
import { RelayMetrics, renderMetrics } from './metrics.js'
import { Session, type SessionInfo } from './session.js'
import type { EnvelopeVerifier } from './verifier.js'

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
  private readonly docs = new Map<string, Doc>()
  private readonly loading = new Map<string, Promise<Doc>>()
  private readonly sessions = new Set<Session>()
  private readonly http: Server
  private readonly wss: WebSocketServer
  private readonly store: DocumentStore
  private closing = false

  constructor(private readonly options: RelayOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits }
    this.hooks = new Hooks(options.extensions ?? [])
    this.log = options.logger ?? jsonLogger
    this.store = new DocumentStore(options.storage)
    this.wss = new WebSocketServer({
      noServer: true,
      // Frames up to this size reach us and get a typed 'too-large' error; beyond, ws closes 1009.
      maxPayload: Math.max(this.limits.maxFrameBytes, this.limits.maxSnapshotBytes) + 4096,
    })
    this.http = createServer((req, res) => this.serveHttp(req, res))
    this.http.on('upgrade', (req, socket, head) => {
      if (this.closing) return socket.destroy()
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req))
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
    await this.options.storage.close()
    this.log({ level: 'info', event: 'stopped' })
  }

  private serveHttp(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(this.closing ? 503 : 200, { 'content-type': 'text/plain' })
      res.end(this.closing ? 'closing\n' : 'ok\n')
    } else if (req.method === 'GET' && req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      res.end(renderMetrics(this.metrics))
    } else {
      res.writeHead(404).end()
    }
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const session = new Session(randomUUID(), ws, this.limits)
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
    this.hooks.run('onConnect', { sessionId: session.sessionId, request: req }).catch(() => {
      this.closeSession(session, CloseCode.Unauthenticated, 'connect-veto')
    })
  }

  private detach(session: Session): void {
    if (!this.sessions.delete(session)) return
    session.closed = true
    this.metrics.connections--
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
    const bytes = encodeFrame(frame)
    this.metrics.messagesOut++
    this.metrics.bytesOut += bytes.length
    session.ws.send(bytes)
  }

  private reject(session: Session, docId: string, ref: number, cause: unknown): void {
    // A document id the storage layout refuses is the client's fault, not a storage failure.
    const err =
      cause instanceof StorageError && cause.code === 'invalid-key'
        ? new RelayError('not-subscribed', 'invalid document id')
        : cause
    const code = err instanceof RelayError ? err.code : RejectCode.StorageFailed
    if (!(err instanceof RelayError)) {
      this.log({ level: 'error', event: 'internal-error', session: session.sessionId, docId })
    }
    this.metrics.reject(code)
    this.log({ level: 'warn', event: 'reject', session: session.sessionId, docId, code, ref })
    const message = err instanceof RelayError ? err.message : 'internal error'
    this.send(session, { type: 'error', docId, ref, code, message })
  }

  private onMessage(session: Session, data: RawData, isBinary: boolean, req: IncomingMessage) {
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
    if (!session.authenticated) {
      if (frame.type === 'auth') return void this.authenticate(session, frame, req)
      if (frame.type === 'ping') return this.send(session, { type: 'pong', nonce: frame.nonce })
      return this.reject(session, '', 0, new RelayError('unauthorized', 'authenticate first'))
    }
    void this.dispatch(session, frame, raw.length)
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
    session.authenticated = true
    this.log({ level: 'info', event: 'authenticated', session: session.sessionId })
    this.send(session, { type: 'auth-ok', sessionId: session.sessionId })
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
        return this.presence(session, frame, size)
      case 'envelope':
      case 'membership-append':
      case 'snapshot-upload':
        return this.write(session, frame, size)
      default:
        return this.reject(session, '', 0, new RelayError('malformed', `unexpected ${frame.type}`))
    }
  }

  private async openDoc(docId: string): Promise<Doc> {
    const open = this.docs.get(docId)
    if (open) return open
    const pending = this.loading.get(docId)
    if (pending) return pending
    const load = (async () => {
      const doc = new Doc(new DocLog(this.store, docId))
      doc.membership = await doc.log.readMembers()
      doc.snapshot = await doc.log.readSnapshot()
      let stored = doc.membership.reduce((n, e) => n + e.length, 0)
      if (doc.snapshot) {
        doc.headSeq = doc.snapshot.upToSeq
        for (const [a, c] of doc.snapshot.counters) doc.counters.set(a, c)
        stored += doc.snapshot.bytes.length
      }
      for await (const { seq, envelope } of doc.log.readUpdates(doc.headSeq)) {
        const { author, counter } = this.options.verifier.peekUpdate(envelope)
        doc.counters.set(author, Math.max(counter, doc.counters.get(author) ?? 0))
        doc.headSeq = seq
        stored += envelope.length
      }
      this.metrics.bytesStored += stored
      this.docs.set(docId, doc)
      this.metrics.documents++
      return doc
    })()
    this.loading.set(docId, load)
    try {
      return await load
    } finally {
      this.loading.delete(docId)
    }
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
      let doc: Doc
      try {
        doc = await this.openDoc(docId)
      } catch (err) {
        return this.reject(session, docId, 0, err)
      }
      joined = await doc.exclusive(async () => {
        if (this.docs.get(docId) !== doc) return false
        await this.join(session, doc, f)
        return true
      })
    }
  }

  private async join(session: Session, doc: Doc, f: Extract<Frame, { type: 'subscribe' }>) {
    const { docId } = f
    if (session.closed || session.docs.has(docId)) return
    if (doc.subscribers.size >= this.limits.maxSubscribersPerDoc) {
      return this.reject(session, docId, 0, new RelayError('limit-exceeded', 'document full'))
    }
    session.docs.add(docId)
    doc.subscribers.add(session)
    for (let i = f.membershipFrom; i < doc.membership.length; i++) {
      const entry = doc.membership[i] as Uint8Array
      this.send(session, { type: 'membership', docId, index: i, entry })
    }
    let after = f.sinceSeq
    const snap = doc.snapshot
    if (snap && snap.upToSeq > f.sinceSeq) {
      // Covered updates are gone: the client needs the snapshot unless it already has it.
      if (snap.upToSeq > f.snapshotSeq) {
        this.send(session, {
          type: 'snapshot',
          docId,
          upToSeq: snap.upToSeq,
          snapshot: snap.bytes,
        })
      }
      after = snap.upToSeq
    }
    for await (const { seq, envelope } of doc.log.readUpdates(after)) {
      if (session.closed) return
      this.send(session, { type: 'deliver', docId, seq, envelope })
    }
    this.send(session, { type: 'synced', docId, headSeq: doc.headSeq })
  }

  private unsubscribe(session: Session, docId: string): void {
    session.docs.delete(docId)
    const doc = this.docs.get(docId)
    if (!doc) return
    doc.subscribers.delete(session)
    // Evict idle documents so memory tracks open documents, not every document ever seen.
    if (doc.subscribers.size === 0) {
      void doc.exclusive(async () => {
        if (doc.subscribers.size === 0 && this.docs.get(docId) === doc) {
          this.docs.delete(docId)
          this.metrics.documents--
        }
      })
    }
  }

  private presence(session: Session, f: Extract<Frame, { type: 'presence' }>, size: number) {
    if (size > this.limits.maxFrameBytes) {
      return this.reject(session, f.docId, 0, new RelayError('too-large', 'presence too large'))
    }
    const doc = this.docs.get(f.docId)
    if (!doc || !session.docs.has(f.docId)) {
      return this.reject(session, f.docId, 0, new RelayError('not-subscribed', 'subscribe first'))
    }
    for (const peer of doc.subscribers) if (peer !== session) this.send(peer, f)
  }

  private async write(
    session: Session,
    f: Extract<Frame, { type: 'envelope' | 'membership-append' | 'snapshot-upload' }>,
    size: number,
  ): Promise<void> {
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
    try {
      const seq = await doc.exclusive(() => this.apply(doc, session, f))
      this.send(session, { type: 'ack', docId: f.docId, ref: f.ref, seq })
      const kind =
        f.type === 'envelope'
          ? 'update'
          : f.type === 'membership-append'
            ? 'membership'
            : 'snapshot'
      this.hooks
        .run('onChange', { docId: f.docId, kind, seq, sessionId: session.sessionId })
        .catch((err) => this.hookFailed('onChange', err))
    } catch (err) {
      this.reject(session, f.docId, f.ref, err)
    }
  }

  /** Verify, persist, then fan out. Runs under the document's lock; throws to reject. */
  private async apply(
    doc: Doc,
    session: Session,
    f: Extract<Frame, { type: 'envelope' | 'membership-append' | 'snapshot-upload' }>,
  ): Promise<number> {
    const ctx = { docId: doc.id, membership: doc.membership }
    const verifier = this.options.verifier
    if (f.type === 'envelope') {
      const { author, counter } = await verifier.verifyUpdate(ctx, f.envelope)
      if (counter <= (doc.counters.get(author) ?? 0)) {
        throw new RelayError('stale', 'counter not fresh (replay)')
      }
      const seq = doc.headSeq + 1
      await doc.log.appendUpdate(seq, f.envelope)
      doc.headSeq = seq
      doc.counters.set(author, counter)
      this.metrics.bytesStored += f.envelope.length
      const out: Frame = { type: 'deliver', docId: doc.id, seq, envelope: f.envelope }
      for (const peer of doc.subscribers) if (peer !== session) this.send(peer, out)
      return seq
    }
    if (f.type === 'membership-append') {
      if (f.index !== doc.membership.length) {
        throw new RelayError('membership-conflict', `chain has ${doc.membership.length} entries`)
      }
      await verifier.verifyMembershipEntry(ctx, f.entry)
      await doc.log.appendMember(f.index, f.entry)
      doc.membership = [...doc.membership, f.entry]
      this.metrics.bytesStored += f.entry.length
      const out: Frame = { type: 'membership', docId: doc.id, index: f.index, entry: f.entry }
      for (const peer of doc.subscribers) if (peer !== session) this.send(peer, out)
      return f.index
    }
    const prev = doc.snapshot?.upToSeq ?? 0
    if (f.prevSeq !== prev) throw new RelayError('snapshot-conflict', `current snapshot is ${prev}`)
    if (f.upToSeq <= prev || f.upToSeq > doc.headSeq) {
      throw new RelayError('snapshot-invalid', 'upToSeq out of range')
    }
    await verifier.verifySnapshot(ctx, f.snapshot)
    let freed = doc.snapshot?.bytes.length ?? 0
    for await (const u of doc.log.readUpdates(prev)) {
      if (u.seq > f.upToSeq) break
      freed += u.envelope.length
    }
    const next = { upToSeq: f.upToSeq, bytes: f.snapshot, counters: new Map(doc.counters) }
    await doc.log.replaceSnapshot(next)
    doc.snapshot = next
    this.metrics.bytesStored += f.snapshot.length - freed
    const out: Frame = { type: 'snapshot', docId: doc.id, upToSeq: f.upToSeq, snapshot: f.snapshot }
    for (const peer of doc.subscribers) if (peer !== session) this.send(peer, out)
    return f.upToSeq
  }

  private hookFailed(hook: string, err: unknown): void {
    const name = err instanceof Error ? err.name : 'unknown'
    this.log({ level: 'warn', event: 'hook-failed', hook, error: name })
  }
}
