import { type DocumentStore, StorageError } from '@valv/storage'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { RelayError } from './errors.js'

/**
 * A stored snapshot: covers updates `1..upToSeq`; `counters` are the relay's freshness state;
 * `id`, `author`, `prevSeq` come from its signed header; `confirmation` is the second writer's
 * (empty while pending, or when the author was the only writer).
 */
export interface StoredSnapshot {
  readonly upToSeq: number
  readonly prevSeq: number
  readonly id: Uint8Array
  readonly author: string
  readonly bytes: Uint8Array
  readonly counters: ReadonlyMap<string, number>
  readonly confirmation: Uint8Array
}

// Membership entries used to be blobs of the document (`blob/member-<9 digits>`); they are
// read from there too, so chains stored by earlier relays stay valid.
const MEMBER = 'member-'
// Before snapshot claims, a snapshot no second writer confirmed yet was this blob; it is still
// read when a document has no claim, and deleted once a claim supersedes it.
const PENDING = 'snapshot-pending'
// What a snapshot claim says: this snapshot waits for confirmation, or it is the new base.
const CLAIM_PENDING = 1
const CLAIM_BASE = 2

/**
 * The newest change of a document's snapshot state, decided in the store: claim `n` is either a
 * new pending snapshot or the promotion of a snapshot to the base. Every change appends claim
 * `n + 1` (compare-and-append), so of two relay nodes changing it at once exactly one wins.
 */
export interface SnapshotClaim {
  readonly n: number
  readonly kind: 'pending' | 'base'
  readonly snapshot: StoredSnapshot
}

/**
 * One document of the relay, stored through `@valv/storage`'s {@link DocumentStore} (the shared
 * key layout and crash-safe compaction): the log of update envelopes, the newest snapshot
 * (wrapped with the per-author counters it covers) and the membership chain. Every write
 * resolves once durable; compaction writes the new snapshot before deleting what it covers.
 */
export class DocLog {
  constructor(
    private readonly store: DocumentStore,
    readonly docId: string,
  ) {}

  /**
   * Append `envelope` at `seq` (compare-and-append in the store). Resolves `false` if `seq` is
   * taken by other bytes (another node appended first): nothing was written.
   */
  async appendUpdate(seq: number, envelope: Uint8Array): Promise<boolean> {
    return taken(() => this.store.appendLog(this.docId, seq, envelope))
  }

  /** Append membership entry `index`; `false` if another entry holds that index. */
  async appendMember(index: number, entry: Uint8Array): Promise<boolean> {
    return taken(() => this.store.appendMember(this.docId, index, entry))
  }

  /** The sequence number the confirmed snapshot in the store covers (0 if none). */
  async snapshotSeq(): Promise<number> {
    try {
      return (await this.store.snapshotSeq(this.docId)) ?? 0
    } catch (err) {
      throw storageFailed(err)
    }
  }

  /** Delete log entries the newest snapshot covers (an append that landed below it). */
  async compact(): Promise<void> {
    try {
      await this.store.compact(this.docId)
    } catch (err) {
      throw storageFailed(err)
    }
  }

  /**
   * Whether the store holds a log entry after `head`, a membership entry at `members` or a
   * snapshot claim after `claim`: a few indexed reads, nothing decoded.
   */
  async holdsMore(head: number, members: number, claim: number): Promise<boolean> {
    try {
      for await (const _ of this.store.readLog(this.docId, { from: head + 1, limit: 1 })) {
        return true
      }
      if (((await this.store.latestClaim(this.docId))?.seq ?? 0) > claim) return true
      // The chain is append-only and gap-free: more than `members` entries iff entry `members`.
      return await this.store.hasMember(this.docId, members)
    } catch (err) {
      throw storageFailed(err)
    }
  }

  async *readUpdates(afterSeq: number): AsyncIterable<{ seq: number; envelope: Uint8Array }> {
    try {
      for await (const { seq, bytes } of this.store.readLog(this.docId, { from: afterSeq + 1 })) {
        yield { seq, envelope: bytes }
      }
    } catch (err) {
      throw storageFailed(err)
    }
  }

  async readMembers(): Promise<Uint8Array[]> {
    try {
      return await this.readMemberBlobs()
    } catch (err) {
      throw storageFailed(err)
    }
  }

  private async readMemberBlobs(): Promise<Uint8Array[]> {
    const byIndex = new Map<number, Uint8Array>()
    for await (const { seq, bytes } of this.store.readMembers(this.docId)) byIndex.set(seq, bytes)
    const legacy: string[] = []
    for await (const name of this.store.listBlobs(this.docId)) {
      if (name.startsWith(MEMBER)) legacy.push(name)
    }
    for (const name of legacy) {
      const index = Number(name.slice(MEMBER.length))
      if (byIndex.has(index)) continue
      const stream = await this.store.getBlob(this.docId, name)
      if (stream) byIndex.set(index, await collect(stream))
    }
    // The chain is what is contiguous from 0.
    const out: Uint8Array[] = []
    for (let i = 0; byIndex.has(i); i++) out.push(byIndex.get(i) as Uint8Array)
    return out
  }

  async readSnapshot(): Promise<StoredSnapshot | undefined> {
    try {
      const snap = await this.store.getSnapshot(this.docId)
      return snap && decodeSnapshot(this.docId, snap.seq, snap.bytes)
    } catch (err) {
      throw storageFailed(err)
    }
  }

  /** The newest snapshot claim, or undefined if the document never had one. */
  async readClaim(): Promise<SnapshotClaim | undefined> {
    try {
      const claim = await this.store.latestClaim(this.docId)
      if (claim === undefined) return undefined
      const kind = claim.bytes[0]
      if (kind !== CLAIM_PENDING && kind !== CLAIM_BASE) {
        throw new RelayError('storage-failed', `snapshot claim kind ${kind} (${this.docId})`)
      }
      return {
        n: claim.seq,
        kind: kind === CLAIM_BASE ? 'base' : 'pending',
        snapshot: decodeSnapshot(this.docId, 0, claim.bytes.subarray(1)),
      }
    } catch (err) {
      throw storageFailed(err)
    }
  }

  /**
   * Append claim `n` (compare-and-append): `snapshot` is now pending, or the base. Resolves
   * `false` if another node appended claim `n` first: nothing was written.
   */
  async appendClaim(
    n: number,
    kind: 'pending' | 'base',
    snapshot: StoredSnapshot,
  ): Promise<boolean> {
    const body = encodeSnapshot(snapshot)
    const bytes = new Uint8Array(body.length + 1)
    bytes[0] = kind === 'base' ? CLAIM_BASE : CLAIM_PENDING
    bytes.set(body, 1)
    return taken(() => this.store.appendClaim(this.docId, n, bytes))
  }

  /** Delete claims older than `n` and the pending blob of relays before claims. */
  async pruneClaims(n: number): Promise<void> {
    try {
      await this.store.pruneClaims(this.docId, n)
      await this.store.deleteBlob(this.docId, PENDING)
    } catch (err) {
      throw storageFailed(err)
    }
  }

  /** The pending blob of relays before claims, unless the confirmed snapshot covers it. */
  async readPending(confirmedSeq: number): Promise<StoredSnapshot | undefined> {
    try {
      const stream = await this.store.getBlob(this.docId, PENDING)
      if (stream === undefined) return undefined
      const snap = decodeSnapshot(this.docId, 0, await collect(stream))
      return snap.upToSeq > confirmedSeq ? snap : undefined
    } catch (err) {
      throw storageFailed(err)
    }
  }

  /** Store `next`, then (DocumentStore's compaction) delete older snapshots and covered updates. */
  async replaceSnapshot(next: StoredSnapshot): Promise<void> {
    await guard(
      () => this.store.putSnapshot(this.docId, next.upToSeq, encodeSnapshot(next)),
      'snapshot-conflict',
    )
  }
}

/** `false` when the store refused because the key holds other bytes; other failures throw. */
async function taken(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn()
    return true
  } catch (err) {
    if (err instanceof StorageError && err.code === 'conflict') return false
    throw storageFailed(err)
  }
}

/**
 * Every failure of the storage seam becomes a typed rejection (`conflict` → `code`, anything
 * else → `storage-failed`), whatever the adapter threw (driver errors, `EIO`, …).
 */
async function guard(
  fn: () => Promise<unknown>,
  code: 'snapshot-conflict' | 'storage-failed',
): Promise<void> {
  try {
    await fn()
  } catch (err) {
    if (err instanceof StorageError && err.code === 'conflict')
      throw new RelayError(code, err.message)
    throw storageFailed(err)
  }
}

function storageFailed(err: unknown): unknown {
  // An invalid document id is the client's fault; the relay maps it to `not-subscribed`.
  if (err instanceof RelayError) return err
  if (err instanceof StorageError && err.code === 'invalid-key') return err
  const failed = new RelayError('storage-failed', 'storage failed')
  failed.cause = err
  return failed
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const c of stream) chunks.push(c)
  if (chunks.length === 1) return chunks[0] as Uint8Array
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return out
}

function encodeSnapshot(s: StoredSnapshot): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, 2)
  encoding.writeVarUint(enc, s.counters.size)
  for (const [author, counter] of s.counters) {
    encoding.writeVarString(enc, author)
    encoding.writeVarUint(enc, counter)
  }
  encoding.writeVarUint(enc, s.upToSeq)
  encoding.writeVarUint(enc, s.prevSeq)
  encoding.writeVarString(enc, s.author)
  encoding.writeVarUint8Array(enc, s.id)
  encoding.writeVarUint8Array(enc, s.confirmation)
  encoding.writeVarUint8Array(enc, s.bytes)
  return encoding.toUint8Array(enc)
}

/** Version 1 (before signed snapshot headers) holds a snapshot clients refuse: not loaded. */
function decodeSnapshot(docId: string, seq: number, raw: Uint8Array): StoredSnapshot {
  const dec = decoding.createDecoder(raw)
  const version = decoding.readVarUint(dec)
  if (version !== 2) throw new RelayError('storage-failed', `snapshot format ${version} (${docId})`)
  const counters = new Map<string, number>()
  for (let n = decoding.readVarUint(dec); n > 0; n--) {
    counters.set(decoding.readVarString(dec), decoding.readVarUint(dec))
  }
  const upToSeq = decoding.readVarUint(dec)
  if (seq !== 0 && seq !== upToSeq) throw new RelayError('storage-failed', 'snapshot seq')
  return {
    upToSeq,
    counters,
    prevSeq: decoding.readVarUint(dec),
    author: decoding.readVarString(dec),
    id: decoding.readVarUint8Array(dec).slice(),
    confirmation: decoding.readVarUint8Array(dec).slice(),
    bytes: decoding.readVarUint8Array(dec).slice(),
  }
}
