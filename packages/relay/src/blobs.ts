import type { DocumentStore } from '@valv/storage'
import { type BlobFrame, encodeFrame, type Frame } from '@valv/wire'
import {
  concat,
  contiguous,
  deleteAll,
  fileName,
  listFiles,
  once,
  partName,
  uploadName,
} from './blob-store.js'
import type { Doc } from './doc.js'
import { RelayError } from './errors.js'
import type { RelayLimits } from './limits.js'
import type { RelayMetrics } from './metrics.js'
import type { Session } from './session.js'
import type { EnvelopeVerifier } from './verifier.js'

/** What the file gate needs from the relay. */
export interface BlobGateHost {
  readonly limits: RelayLimits
  readonly metrics: RelayMetrics
  readonly verifier: EnvelopeVerifier
  readonly store: DocumentStore
  /**
   * Other relay nodes share the store (scale-out): begin, commit and delete also take the
   * document's file lock in the store, and an upload holds its blob's lock until it ends.
   */
  readonly shared: boolean
  doc(docId: string): Doc | undefined
  send(session: Session, frame: Frame): void
  /** Whether this node knows the document is erased or being erased (memory, erasure.ts). */
  erased(docId: string): boolean
  /** Whether the store holds the document's tombstone (another node may have erased it). */
  tombstoned(docId: string): Promise<boolean>
}

type Op = 'upload' | 'download' | 'delete'

/** An upload begun on one connection: chunks are written one after another, in order. */
interface Upload {
  readonly session: Session
  readonly size: number
  readonly grant: Uint8Array
  /** Bytes the upload may reach: its declared size, or what the quota left at begin. */
  readonly budget: number
  offset: number
  committed: boolean
  dead: boolean
  /** Chunk bytes received and not yet stored (bounded by `maxUploadBacklogBytes`). */
  backlog: number
  tail: Promise<void>
  /** Releases the blob's lock in the store (scale-out), handed on when a resume takes over. */
  release: (() => Promise<void>) | undefined
}

// How long begin, commit and delete wait for another node's hold on a document's files.
const LOCK_WAIT_MS = 10_000
const LOCK_POLL_MS = 20

/**
 * Encrypted files through the relay: uploads from current writers, downloads by current
 * members (both proven by a grant signed with the member's per-document key and bound to this
 * connection), a byte quota per document, resumable uploads and streamed downloads in bounded
 * memory. Bytes are stored through {@link DocumentStore} blobs under the document, so erasing
 * the document erases its files. See docs/protocol.md, "Files through the relay".
 */
export class BlobGate {
  private readonly uploads = new Map<string, Upload>()
  private readonly locks = new Map<string, Promise<unknown>>()
  private readonly transfers = new WeakMap<Session, number>()

  constructor(private readonly host: BlobGateHost) {}

  /** Handle one blob frame of an authenticated session; throws a {@link RelayError} to reject. */
  async receive(session: Session, f: BlobFrame): Promise<void> {
    switch (f.type) {
      case 'blob-begin':
        return this.begin(session, f)
      case 'blob-chunk':
        return this.chunk(session, f)
      case 'blob-commit':
        return this.commit(session, f)
      case 'blob-fetch':
        return this.fetch(session, f)
      case 'blob-delete':
        return this.remove(session, f)
      default:
        throw new RelayError('malformed', `unexpected ${f.type}`)
    }
  }

  private async authorise(
    session: Session,
    docId: string,
    op: Op,
    blobId: string,
    size: number,
    grant: Uint8Array,
  ): Promise<void> {
    const doc = this.host.doc(docId)
    if (!doc || !session.docs.has(docId)) throw new RelayError('not-subscribed', 'subscribe first')
    const verify = this.host.verifier.verifyBlobGrant
    if (verify === undefined) throw new RelayError('forbidden', 'files are not enabled')
    const fields = { op, blobId, size, sessionId: session.sessionId }
    await verify.call(this.host.verifier, { docId, membership: doc.membership }, grant, fields)
  }

  private async begin(session: Session, f: Extract<BlobFrame, { type: 'blob-begin' }>) {
    const { store } = this.host
    await this.authorise(session, f.docId, 'upload', f.blobId, f.size, f.grant)
    const key = `${f.docId}\n${f.blobId}`
    const offset = await this.exclusive(f.docId, async () => {
      const previous = this.uploads.get(key)
      let release: (() => Promise<void>) | undefined
      if (previous) {
        // A resumed upload (a new connection) takes over once the old one's writes settled.
        previous.dead = true
        await previous.tail
        release = previous.release
        previous.release = undefined
      } else if (this.host.shared) {
        // One upload of a blob at a time in the cluster: a connection on another node holds
        // it until it commits, is deleted or closes (or that node dies); then it may resume.
        release = await store.tryLock(f.docId, `upload.${f.blobId}`)
        if (release === undefined) throw conflict('the upload is in progress on another node')
      }
      try {
        return await this.started(session, f, key, release)
      } catch (err) {
        await release?.()
        throw err
      }
    })
    this.host.send(session, { type: 'ack', docId: f.docId, ref: f.ref, seq: offset })
  }

  /** The rest of begin, under the lock: quota, resume point, the upload marker. */
  private async started(
    session: Session,
    f: Extract<BlobFrame, { type: 'blob-begin' }>,
    key: string,
    release: (() => Promise<void>) | undefined,
  ): Promise<number> {
    const { limits, metrics, store } = this.host
    await this.refuseErased(f.docId)
    const open = [...this.uploads.values()].filter((u) => u.session === session).length
    if (open >= limits.maxUploadsPerConnection) {
      throw new RelayError('limit-exceeded', 'too many uploads on this connection')
    }
    const listing = await this.collect(f.docId, key)
    const stored = listing.files.get(f.blobId)
    const quota = limits.fileQuotaBytes
    if (stored) {
      if (f.size !== 0 && f.size !== stored.size) throw conflict('blob exists with another size')
      this.track(key, session, f, stored.size, stored.size, true, release)
      return stored.size
    }
    let used = 0
    for (const [, file] of listing.files) used += file.size
    for (const [id, u] of listing.uploads) {
      if (id !== f.blobId) used += u.size > 0 ? u.size : contiguous(u.parts)
    }
    const mine = listing.uploads.get(f.blobId)
    if (mine && mine.size !== f.size) throw conflict('an upload of another size is in progress')
    if (used + f.size > quota) {
      metrics.file('quota-refused')
      throw new RelayError('quota-exceeded', `document file quota is ${quota} bytes`)
    }
    let at = 0
    if (mine) {
      at = contiguous(mine.parts)
      // Parts past a gap or overlapping the resume point are rewritten: drop them.
      const stale = mine.parts.filter((p) => p.offset >= at).map((p) => p.name)
      await deleteAll(store, f.docId, stale)
      metrics.file('resumed')
    } else {
      await store.putBlob(f.docId, uploadName(f.blobId, f.size, Date.now()), once(ONE))
    }
    const budget = f.size > 0 ? f.size : quota - used
    this.track(key, session, f, at, budget, false, release)
    return at
  }

  private track(
    key: string,
    session: Session,
    f: { size: number; grant: Uint8Array },
    offset: number,
    budget: number,
    committed: boolean,
    release: (() => Promise<void>) | undefined,
  ): void {
    const { size, grant } = f
    const upload = { session, size, grant, budget, offset, committed, dead: false, release }
    this.uploads.set(key, { ...upload, backlog: 0, tail: Promise.resolve() })
  }

  /** Forget upload `u` of `key` and release its blob's lock. */
  private drop(key: string, u: Upload): void {
    if (this.uploads.get(key) === u) this.uploads.delete(key)
    const release = u.release
    u.release = undefined
    void release?.().catch(() => undefined)
  }

  private owned(session: Session, docId: string, blobId: string): Upload {
    const u = this.uploads.get(`${docId}\n${blobId}`)
    if (!u || u.session !== session || u.dead) throw conflict('begin the upload first')
    return u
  }

  private async chunk(session: Session, f: Extract<BlobFrame, { type: 'blob-chunk' }>) {
    const { limits, metrics, store } = this.host
    if (this.host.erased(f.docId)) throw erasedError()
    const u = this.owned(session, f.docId, f.blobId)
    const n = f.data.length
    if (n > limits.maxBlobChunkBytes) throw new RelayError('too-large', 'chunk too large')
    if (u.backlog + n > limits.maxUploadBacklogBytes) {
      throw new RelayError('limit-exceeded', 'wait for acks before sending more chunks')
    }
    u.backlog += n
    const write = u.tail.then(async () => {
      if (this.host.erased(f.docId)) throw erasedError()
      if (u.dead) throw conflict('the upload was taken over or deleted')
      if (u.committed || f.offset !== u.offset) throw conflict(`expected offset ${u.offset}`)
      if (f.offset + n > u.budget) {
        if (u.size > 0) throw conflict('chunk beyond the declared size')
        // An upload of undeclared size ran over the quota: nothing of it is kept.
        u.dead = true
        await this.discard(f.docId, f.blobId)
        metrics.file('quota-refused')
        throw new RelayError('quota-exceeded', 'document file quota exceeded')
      }
      const name = partName(f.blobId, f.offset, n)
      if (n > 0) await store.putBlob(f.docId, name, once(f.data))
      if (this.host.shared && (await this.host.tombstoned(f.docId))) {
        // Erased on another node while this part was written: the erasure's deletion may
        // have listed the files before the part landed, so it goes here. The tombstone is
        // durable before the deletion starts, so a part the deletion missed is found here.
        u.dead = true
        await deleteAll(store, f.docId, [name])
        throw erasedError()
      }
      u.offset += n
      metrics.file('bytes-in', n)
      return u.offset
    })
    u.tail = write.then(
      () => undefined,
      () => undefined,
    )
    try {
      const seq = await write
      this.host.send(session, { type: 'ack', docId: f.docId, ref: f.ref, seq })
    } finally {
      u.backlog -= n
    }
  }

  private async commit(session: Session, f: Extract<BlobFrame, { type: 'blob-commit' }>) {
    const u = this.owned(session, f.docId, f.blobId)
    await u.tail
    await this.exclusive(f.docId, async () => {
      await this.refuseErased(f.docId)
      if (u.dead) throw conflict('the upload was taken over or deleted')
      if (u.committed) {
        if (f.size !== u.offset) throw conflict(`the blob has ${u.offset} bytes`)
        return
      }
      if (f.size !== u.offset || (u.size > 0 && u.size !== f.size)) {
        throw conflict(`stored ${u.offset} bytes`)
      }
      // The role may have changed since begin: a writer demoted mid-upload cannot commit.
      await this.authorise(session, f.docId, 'upload', f.blobId, u.size, u.grant)
      const { store, metrics } = this.host
      const listing = await listFiles(store, f.docId)
      const upload = listing.uploads.get(f.blobId)
      if (!upload || contiguous(upload.parts) !== f.size) throw conflict('stored parts differ')
      const parts = upload.parts.filter((p) => p.offset < f.size)
      await store.putBlob(f.docId, fileName(f.blobId, f.size), concat(store, f.docId, parts))
      // Durable as one object first; the parts go after (a crash leaves orphans, swept later).
      await deleteAll(store, f.docId, [...upload.parts.map((p) => p.name), upload.name])
      u.committed = true
      metrics.file('committed')
    })
    this.drop(`${f.docId}\n${f.blobId}`, u)
    this.host.send(session, { type: 'ack', docId: f.docId, ref: f.ref, seq: f.size })
  }

  private async fetch(session: Session, f: Extract<BlobFrame, { type: 'blob-fetch' }>) {
    const { limits, metrics, store } = this.host
    await this.authorise(session, f.docId, 'download', f.blobId, 0, f.grant)
    const file = (await listFiles(store, f.docId)).files.get(f.blobId)
    if (file === undefined) throw new RelayError('not-found', 'no such file')
    if (f.offset > file.size) throw conflict(`the blob has ${file.size} bytes`)
    const running = this.transfers.get(session) ?? 0
    if (running >= limits.maxDownloadsPerConnection) {
      throw new RelayError('limit-exceeded', 'too many downloads on this connection')
    }
    this.transfers.set(session, running + 1)
    try {
      const stream = await store.getBlob(f.docId, file.name)
      if (stream === undefined) throw new RelayError('not-found', 'no such file')
      let pos = 0
      for await (const piece of stream) {
        for (let at = 0; at < piece.length; at += limits.maxBlobChunkBytes) {
          const part = piece.subarray(at, at + limits.maxBlobChunkBytes)
          const start = pos
          pos += part.length
          if (pos <= f.offset) continue
          const data = start < f.offset ? part.subarray(f.offset - start) : part
          if (session.closed || !session.docs.has(f.docId)) return
          const offset = Math.max(start, f.offset)
          await this.paced(session, { type: 'blob-data', docId: f.docId, ref: f.ref, offset, data })
          metrics.file('bytes-out', data.length)
        }
      }
      metrics.file('downloaded')
      this.host.send(session, { type: 'ack', docId: f.docId, ref: f.ref, seq: pos })
    } finally {
      this.transfers.set(session, (this.transfers.get(session) ?? 1) - 1)
    }
  }

  /** Send and wait until the socket took the bytes: one chunk buffered per download. */
  private paced(session: Session, frame: Frame): Promise<void> {
    const bytes = encodeFrame(frame)
    this.host.metrics.messagesOut++
    this.host.metrics.bytesOut += bytes.length
    return new Promise((resolve) => session.ws.send(bytes, () => resolve()))
  }

  private async remove(session: Session, f: Extract<BlobFrame, { type: 'blob-delete' }>) {
    await this.authorise(session, f.docId, 'delete', f.blobId, 0, f.grant)
    const key = `${f.docId}\n${f.blobId}`
    await this.exclusive(f.docId, async () => {
      const u = this.uploads.get(key)
      if (u) {
        u.dead = true
        await u.tail
        this.drop(key, u)
      }
      // An upload on another node loses its objects: its commit fails, its late parts are
      // orphans that the next begin collects.
      await this.discard(f.docId, f.blobId)
    })
    this.host.metrics.file('deleted')
    this.host.send(session, { type: 'ack', docId: f.docId, ref: f.ref, seq: 0 })
  }

  /** Delete every object of one blob: the file, an upload marker, its parts. */
  private async discard(docId: string, blobId: string): Promise<void> {
    const { files, uploads, orphans } = await listFiles(this.host.store, docId)
    const names = [...orphans.filter((n) => n.startsWith(`part.${blobId}.`))]
    const file = files.get(blobId)
    const upload = uploads.get(blobId)
    if (file) names.push(file.name)
    if (upload) names.push(upload.name, ...upload.parts.map((p) => p.name))
    await deleteAll(this.host.store, docId, names)
  }

  /**
   * The document's listing after collecting garbage: parts left by a crash after commit, and
   * uploads nobody continued within `uploadTtlMs` (never the one in `keep`, being resumed).
   */
  private async collect(docId: string, keep: string) {
    const { store, limits, metrics } = this.host
    const listing = await listFiles(store, docId)
    const garbage = [...listing.orphans]
    const now = Date.now()
    const held: (() => Promise<void>)[] = []
    try {
      for (const [id, u] of listing.uploads) {
        const live = this.uploads.get(`${docId}\n${id}`)
        const active = live !== undefined && !live.dead && !live.session.closed
        if (`${docId}\n${id}` === keep || active) continue
        if (listing.files.has(id) || now - u.startedMs > limits.uploadTtlMs) {
          if (this.host.shared) {
            // Still running on another node: not garbage. Held until deleted, so nobody
            // resumes what is being removed.
            const release = await store.tryLock(docId, `upload.${id}`)
            if (release === undefined) continue
            held.push(release)
          }
          garbage.push(u.name, ...u.parts.map((p) => p.name))
          listing.uploads.delete(id)
          metrics.file('expired')
        }
      }
      await deleteAll(store, docId, garbage)
    } finally {
      for (const release of held) await release().catch(() => undefined)
    }
    return listing
  }

  /**
   * The document is being erased (here, or on another node that said so on the bus): stop its
   * uploads on this node and wait until their writes settled, so that the deletion that
   * follows sees every part. Chunks from now on are refused with `erased` (`host.erased`).
   * Under the document's file lock, so no begin or commit of any node runs meanwhile, and
   * those that follow see the tombstone.
   */
  stop(docId: string): Promise<void> {
    return this.exclusive(docId, async () => {
      for (const [key, u] of this.uploads) {
        if (!key.startsWith(`${docId}\n`)) continue
        u.dead = true
        await u.tail
        this.drop(key, u)
      }
    })
  }

  /** Begin and commit of an erased document are refused (on another node: the tombstone). */
  private async refuseErased(docId: string): Promise<void> {
    if (this.host.erased(docId)) throw erasedError()
    if (this.host.shared && (await this.host.tombstoned(docId))) throw erasedError()
  }

  /** A connection closed: forget its uploads (their stored parts stay for a resume). */
  forget(session: Session): void {
    for (const [key, u] of this.uploads) {
      if (u.session !== session) continue
      // Kept until its last write settled, so a resume waits for it (see `begin`).
      u.dead = true
      void u.tail.then(() => this.drop(key, u))
    }
  }

  /**
   * Begin, commit and delete of one document run one at a time: on this node in order, and
   * across nodes (scale-out) under the document's file lock in the store, so the quota and the
   * listing they check cannot change under them.
   */
  private exclusive<T>(docId: string, fn: () => Promise<T>): Promise<T> {
    const guarded = this.host.shared ? () => this.locked(docId, fn) : fn
    const run = (this.locks.get(docId) ?? Promise.resolve()).then(guarded)
    const tail = run.then(
      () => undefined,
      () => undefined,
    )
    this.locks.set(docId, tail)
    void tail.then(() => {
      if (this.locks.get(docId) === tail) this.locks.delete(docId)
    })
    return run
  }

  private locked<T>(docId: string, fn: () => Promise<T>): Promise<T> {
    return lockedRun(this.host.store, docId, fn)
  }
}

/** Run `fn` holding the document's file lock in the store; waits for another node's hold. */
async function lockedRun<T>(store: DocumentStore, docId: string, fn: () => Promise<T>): Promise<T> {
  const end = Date.now() + LOCK_WAIT_MS
  for (;;) {
    const release = await store.tryLock(docId, 'files')
    if (release) {
      try {
        return await fn()
      } finally {
        await release().catch(() => undefined)
      }
    }
    if (Date.now() > end) throw new RelayError('storage-failed', 'files of this document are busy')
    await new Promise((r) => setTimeout(r, LOCK_POLL_MS))
  }
}

const ONE = new Uint8Array(1)

function erasedError(): RelayError {
  return new RelayError('erased', 'document was erased')
}

function conflict(message: string): RelayError {
  return new RelayError('blob-conflict', message)
}
