import { equalBytes } from '@valv/protocol'
import { type Frame, RejectCode } from '@valv/wire'
import type { ClusterBus } from './cluster.js'
import { Contended } from './contended.js'
import { Doc } from './doc.js'
import type { DocLog, StoredSnapshot } from './doc-log.js'
import { RelayError } from './errors.js'
import type { ChangePayload } from './hooks.js'
import type { RelayMetrics } from './metrics.js'
import type { Session } from './session.js'
import { confirmSnapshot, uploadSnapshot } from './snapshots.js'
import type { EnvelopeVerifier } from './verifier.js'

/** Frames that write to a document. */
export type WriteFrame = Extract<
  Frame,
  { type: 'envelope' | 'membership-append' | 'snapshot-upload' | 'snapshot-confirm' }
>
type SubscribeFrame = Extract<Frame, { type: 'subscribe' }>

/** What a room needs from the relay around it. */
export interface RoomHost {
  readonly metrics: RelayMetrics
  readonly verifier: EnvelopeVerifier
  /** Set when nodes share the store; then every write may race another node's. */
  readonly cluster: ClusterBus | undefined
  send(session: Session, frame: Frame): void
  reject(session: Session, docId: string, ref: number, err: unknown): void
  /** A write became durable (storage works: see readiness). */
  stored(): void
  changed(payload: ChangePayload): void
  /** Whether the store holds the document's tombstone (erasure.ts). */
  tombstoned(docId: string): Promise<boolean>
  /** The document was erased on another node: drop the room, tell its subscribers. */
  gone(room: Room, except: Session): void
}

// Each retry follows a catch-up that moved the head, so this only bounds a pathological race.
const MAX_ATTEMPTS = 16
/** Log entries read at most to find a resent envelope the memory of recent writes lost. */
const LOG_LOOKUP = 4096

/** Counters remembered per session and author as refused for storage, at most. */
const MAX_UNSTORED = 4096

/** Remember that `counter` was refused for storage (see `Session.unstored`). */
function refused(session: Session, key: string, counter: number): void {
  const set = session.unstored.get(key) ?? new Set<number>()
  // Beyond the bound only order among the remembered ones is kept (a client sends at most
  // its in-flight window, far below it).
  if (set.size < MAX_UNSTORED) set.add(counter)
  session.unstored.set(key, set)
}

export function snapshotFrame(docId: string, s: StoredSnapshot, confirmed: boolean): Frame {
  return {
    type: 'snapshot',
    docId,
    upToSeq: s.upToSeq,
    snapshot: s.bytes,
    confirmed,
    confirmation: s.confirmation,
  }
}

/**
 * One open document: its subscribers, sequence head, chain head and retry window (all in
 * {@link Doc}), and the logic that serves them: joining, verified writes, fan-out to local
 * subscribers and (scale-out) to other nodes, and catching up with what other nodes stored.
 * Everything that reads or changes the state runs under {@link Doc.exclusive}.
 */
export class Room extends Doc {
  /** Set by an `erase` frame (erasure.ts): every write queued behind it is refused. */
  erased = false
  /** When this room last heard of a change (a bus message, a write, a read of the store). */
  heardAt = Date.now()

  constructor(
    log: DocLog,
    retryWindow: number,
    private readonly host: RoomHost,
  ) {
    super(log, retryWindow)
  }

  /** Send the client what it lacks, then `synced`. Run under {@link Doc.exclusive}. */
  async join(session: Session, f: SubscribeFrame): Promise<void> {
    const { docId } = f
    if (this.reload) await this.catchUp()
    session.docs.add(docId)
    this.subscribers.add(session)
    for (let i = f.membershipFrom; i < this.membership.length; i++) {
      const entry = this.membership[i] as Uint8Array
      this.host.send(session, { type: 'membership', docId, index: i, entry })
    }
    let after = f.sinceSeq
    const snap = this.snapshot
    // The base, unless the client has it: covered updates are gone, and a client that missed
    // it (its compaction lost the compare-and-swap) learns the base it must build on.
    if (snap && snap.upToSeq > f.snapshotSeq) {
      this.host.send(session, snapshotFrame(docId, snap, true))
      after = Math.max(after, snap.upToSeq)
    }
    // `sinceSeq` is the client's word: past the head (a rolled-back relay, or a hostile value
    // up to 2^53 - 1) there is nothing to read, and `synced` tells the client the real head.
    if (after < this.headSeq) {
      for await (const { seq, envelope } of this.log.readUpdates(after)) {
        if (session.closed) return
        // Another node may have stored more than this one heard of; the rest comes by catch-up.
        if (seq > this.headSeq) break
        this.host.send(session, { type: 'deliver', docId, seq, envelope })
      }
    }
    // After the updates it covers, so the client can recompute and check it.
    const pending = this.unconfirmed
    if (pending && pending.upToSeq > f.snapshotSeq) {
      this.host.send(session, snapshotFrame(docId, pending, false))
    }
    this.host.send(session, { type: 'synced', docId, headSeq: this.headSeq })
  }

  /** Verify, store (ack only once durable), fan out. Failures become error frames. */
  async write(session: Session, f: WriteFrame): Promise<void> {
    const id = f.type === 'envelope' ? this.peek(f.envelope) : undefined
    const key = id === undefined ? undefined : `${f.docId}\n${id.author}`
    let blocked = false
    try {
      const { seq, again } = await this.exclusive(async () => {
        if (this.erased) throw new RelayError('erased', 'document was erased')
        // Another node may have erased the document and its message on the bus been lost:
        // the tombstone in the shared store decides, read under the lock before every write.
        if (this.host.cluster && (await this.host.tombstoned(this.id))) {
          this.erased = true
          this.host.gone(this, session)
          throw new RelayError('erased', 'document was erased')
        }
        if (this.reload) await this.catchUp()
        for (let attempt = 1; ; attempt++) {
          try {
            // Read under the lock: an earlier frame of this session may just have failed.
            const failed = key === undefined ? undefined : session.unstored.get(key)
            const stored =
              id && (await this.storedSeq(id, (f as { envelope: Uint8Array }).envelope))
            if (id && failed !== undefined) {
              const first = Math.min(...failed)
              if (stored || id.counter === first) failed.delete(id.counter)
              // Per author the log is in counter order: once an envelope of this session failed
              // in storage, its later ones wait for it, so its retry is never `stale`.
              else if (id.counter > first) {
                blocked = true
                refused(session, key as string, id.counter)
                throw new RelayError('storage-failed', `resend counter ${first} first`)
              }
              if (failed.size === 0) session.unstored.delete(key as string)
            }
            if (stored) return { seq: stored, again: true }
            return { seq: await this.apply(session, f), again: false }
          } catch (err) {
            if (!(err instanceof Contended)) throw err
            if (attempt >= MAX_ATTEMPTS) throw new RelayError('storage-failed', 'write contended')
            await this.catchUp()
          }
        }
      })
      this.host.stored()
      this.host.send(session, { type: 'ack', docId: f.docId, ref: f.ref, seq })
      // A resent envelope that was already stored changes nothing: no fan-out, no onChange.
      if (again) return
      const kind =
        f.type === 'envelope'
          ? 'update'
          : f.type === 'membership-append'
            ? 'membership'
            : 'snapshot'
      this.host.changed({ docId: f.docId, kind, seq, sessionId: session.sessionId })
    } catch (err) {
      const storage = !(err instanceof RelayError) || err.code === RejectCode.StorageFailed
      if (storage && !blocked) {
        // Memory may disagree with what is durable (the write may have landed): reload first.
        this.reload = true
        if (key !== undefined && id) refused(session, key, id.counter)
      }
      this.host.reject(session, f.docId, f.ref, err)
    }
  }

  /** A frame another node published: catch up with what it stored, forward it locally. */
  remote(frame: Frame): Promise<void> {
    this.heardAt = Date.now()
    return this.exclusive(async () => {
      switch (frame.type) {
        case 'deliver': {
          if (frame.seq <= this.headSeq) return
          if (frame.seq > this.headSeq + 1) return this.catchUp()
          // Counters come from the stored bytes, which the other node verified.
          const { author, counter } = this.host.verifier.peekUpdate(frame.envelope)
          this.noteUpdate(author, counter, frame.seq)
          return this.broadcast(frame)
        }
        case 'membership':
          if (frame.index < this.membership.length) return
          if (frame.index > this.membership.length) return this.catchUp()
          this.membership = [...this.membership, frame.entry]
          return this.broadcast(frame)
        case 'snapshot':
        case 'snapshot-confirm':
          // The base or pending snapshot changed in the store: read it, then tell subscribers.
          await this.catchUp()
          return this.broadcast(frame)
        case 'presence':
          return this.broadcast(frame)
        default:
          return
      }
    })
  }

  /**
   * Read the store and bring this room up to it (another node wrote, or a message of the bus
   * was lost), forwarding to subscribers what they have not seen. Run under the lock.
   */
  async catchUp(): Promise<void> {
    this.heardAt = Date.now()
    const head = this.headSeq
    const members = this.membership.length
    const base = this.snapshot?.upToSeq ?? 0
    await this.load(this.host.verifier)
    const docId = this.id
    if (this.subscribers.size === 0) return
    for (let i = members; i < this.membership.length; i++) {
      const entry = this.membership[i] as Uint8Array
      this.broadcast({ type: 'membership', docId, index: i, entry })
    }
    let after = head
    const snap = this.snapshot
    if (snap && snap.upToSeq > base && snap.upToSeq > head) {
      this.broadcast(snapshotFrame(docId, snap, true))
      after = snap.upToSeq
    }
    if (after < this.headSeq) {
      for await (const { seq, envelope } of this.log.readUpdates(after)) {
        if (seq > this.headSeq) break
        this.broadcast({ type: 'deliver', docId, seq, envelope })
      }
    }
  }

  /**
   * Catch up if the store holds more than this room knows (a log entry past the head, a
   * membership entry past the chain, a newer snapshot claim). Run under the lock.
   */
  async probe(): Promise<void> {
    if (await this.log.holdsMore(this.headSeq, this.membership.length, this.claim)) {
      await this.catchUp()
    }
  }

  /** Send `frame` to every local subscriber except `except`. */
  private broadcast(frame: Frame, except?: Session): void {
    for (const peer of this.subscribers) if (peer !== except) this.host.send(peer, frame)
  }

  /** Local subscribers, then the other nodes. */
  private fanOut(frame: Frame, except: Session): void {
    this.heardAt = Date.now()
    this.broadcast(frame, except)
    this.host.cluster?.publish(this.id, frame)
  }

  private noteUpdate(author: string, counter: number, seq: number): void {
    this.headSeq = seq
    this.counters.set(author, Math.max(counter, this.counters.get(author) ?? 0))
    this.recent.add(author, counter, seq)
  }

  /** Author and counter of an envelope without cryptography; undefined if it is no envelope. */
  private peek(envelope: Uint8Array): { author: string; counter: number } | undefined {
    try {
      return this.host.verifier.peekUpdate(envelope)
    } catch {
      return undefined // `apply` rejects it with the precise reason
    }
  }

  /**
   * The sequence number of `envelope` if exactly these bytes are already stored (a retry whose
   * ack was lost). Equal bytes were verified when first stored, so no signature check is needed.
   * Recent writes are looked up in memory; one the memory no longer holds (a long queue went in
   * since, or it is older than the window) is looked up in the log itself, which is durable and
   * bounded by compaction: so a stored envelope is acknowledged again, never `stale`, whatever
   * this process forgot. Only an envelope the base snapshot already covers cannot be compared.
   */
  private async storedSeq(
    { author, counter }: { author: string; counter: number },
    envelope: Uint8Array,
  ): Promise<number | undefined> {
    if (counter > (this.counters.get(author) ?? 0)) return undefined
    const base = this.snapshot?.upToSeq ?? 0
    const seq = this.recent.seqOf(author, counter)
    if (seq !== undefined && seq > base) {
      for await (const u of this.log.readUpdates(seq - 1)) {
        const same = u.seq === seq && equalBytes(u.envelope, envelope)
        if (same) this.host.metrics.retry('acked')
        return same ? seq : undefined
      }
      return undefined
    }
    // Not in memory: read the log's tail after the base (cheap next to what it saves, a resealed
    // copy), bounded so that replayed old counters cannot make every write read the whole log.
    // Verified first: author and counter were only peeked, and a forged frame naming a member
    // must not buy a read of thousands of log entries under the room's lock.
    await this.host.verifier.verifyUpdate({ docId: this.id, membership: this.membership }, envelope)
    for await (const u of this.log.readUpdates(Math.max(base, this.headSeq - LOG_LOOKUP))) {
      if (u.seq > this.headSeq) break
      if (!equalBytes(u.envelope, envelope)) continue
      this.host.metrics.retry('acked-from-log')
      return u.seq
    }
    return undefined
  }

  /** Verify, persist, then fan out. Runs under the lock; throws to reject. */
  private async apply(session: Session, f: WriteFrame): Promise<number> {
    const { verifier, metrics, cluster } = this.host
    // Another node may have moved the base or the pending snapshot.
    if (cluster && (f.type === 'snapshot-upload' || f.type === 'snapshot-confirm')) {
      await this.catchUp()
    }
    const ctx = { docId: this.id, membership: this.membership }
    if (f.type === 'envelope') {
      const { author, counter } = await verifier.verifyUpdate(ctx, f.envelope)
      if (counter <= (this.counters.get(author) ?? 0)) {
        // Not these bytes (storedSeq looked): the counter is taken, or passed by a later one.
        metrics.retry('stale')
        throw new RelayError('stale', 'counter not fresh (replay)')
      }
      const seq = this.headSeq + 1
      // Compare-and-append in the store: with several nodes, the store picks one writer.
      if (!(await this.log.appendUpdate(seq, f.envelope))) throw new Contended()
      // A node that missed a compaction could append into the gap it left below the new
      // base: such an entry is never read, so it must not be acked (it is removed again).
      if (cluster && (await this.log.snapshotSeq()) >= seq) {
        await this.log.compact()
        throw new Contended()
      }
      this.noteUpdate(author, counter, seq)
      metrics.bytesStored += f.envelope.length
      this.fanOut({ type: 'deliver', docId: this.id, seq, envelope: f.envelope }, session)
      return seq
    }
    if (f.type === 'membership-append') {
      if (f.index !== this.membership.length) {
        throw new RelayError('membership-conflict', `chain has ${this.membership.length} entries`)
      }
      await verifier.verifyMembershipEntry(ctx, f.entry)
      // The store decides between nodes: the loser catches up and gets `membership-conflict`.
      if (!(await this.log.appendMember(f.index, f.entry))) throw new Contended()
      this.membership = [...this.membership, f.entry]
      metrics.bytesStored += f.entry.length
      this.fanOut({ type: 'membership', docId: this.id, index: f.index, entry: f.entry }, session)
      return f.index
    }
    const { snapshot, confirmed, storedDelta } =
      f.type === 'snapshot-upload'
        ? await uploadSnapshot(this, verifier, ctx, f)
        : await confirmSnapshot(this, verifier, ctx, f)
    metrics.bytesStored += storedDelta
    const upToSeq = snapshot.upToSeq
    const done: Frame = {
      type: 'snapshot-confirm',
      docId: this.id,
      ref: 0,
      upToSeq,
      confirmation: snapshot.confirmation,
    }
    // Peers learn a new pending or base snapshot, or that the pending one became the base.
    this.fanOut(
      f.type === 'snapshot-confirm' ? done : snapshotFrame(this.id, snapshot, confirmed),
      session,
    )
    // The author of a snapshot that needed nobody's confirmation learns it is the base.
    if (f.type === 'snapshot-upload' && confirmed) this.host.send(session, done)
    return upToSeq
  }
}
