import type { StorageAdapter, StorageKey } from './adapter.js'
import { assertValidKey, StorageError } from './errors.js'
import {
  blobKey,
  blobPrefix,
  claimPrefix,
  DOCS,
  docKey,
  lockPrefix,
  logPrefix,
  memberPrefix,
  parseSeq,
  seqSegment,
  snapPrefix,
} from './layout.js'

/** One log entry: the envelope stored at a sequence number. */
export interface LogEntry {
  /** Sequence number within the document. */
  readonly seq: number
  /** The opaque envelope bytes. */
  readonly bytes: Uint8Array
}

/** The newest snapshot of a document. */
export interface Snapshot {
  /** The snapshot covers every log entry with a sequence number `<= seq`. */
  readonly seq: number
  /** The opaque snapshot bytes. */
  readonly bytes: Uint8Array
}

/** A range of sequence numbers: `from` inclusive, `to` exclusive, at most `limit` entries. */
export interface SeqRange {
  /** Lowest sequence number returned (inclusive). */
  readonly from?: number
  /** First sequence number NOT returned (exclusive). */
  readonly to?: number
  /** Return at most this many entries. */
  readonly limit?: number
}

// Compaction collects names in batches before deleting: some backends (SQLite) cannot write
// while a listing is open, and a batch bounds memory for logs of any length.
const BATCH = 512
// Deletes in flight at once; remote backends (S3) pay one round trip per key.
const PARALLEL = 16

/**
 * Documents on top of any {@link StorageAdapter}: an append-only log of envelopes per document,
 * the newest snapshot, streamed blobs, and deletion of everything. Key layout and compaction
 * live here once, so every adapter behaves the same. All bytes are opaque (ciphertext).
 *
 * Crash safety without locks: every operation writes new keys first and deletes old ones only
 * after, so a crash leaves extra data (cleaned up by the next compaction), never missing data.
 * Nothing is read, modified and written back.
 *
 * @example
 * ```ts
 * const store = new DocumentStore(new MemoryStorageAdapter())
 * await store.appendLog('doc1', 1, await session.seal('update', Y.encodeStateAsUpdate(doc), 1))
 * for await (const entry of store.readLog('doc1', { from: 1 })) console.log(entry.seq)
 * const snapshot = await session.seal('snapshot', Y.encodeStateAsUpdate(doc), 0)
 * await store.putSnapshot('doc1', 1, snapshot) // drops log entry 1
 * ```
 */
export class DocumentStore {
  /** The adapter underneath. */
  readonly adapter: StorageAdapter

  /** Layer documents over `adapter`. */
  constructor(adapter: StorageAdapter) {
    this.adapter = adapter
  }

  /**
   * Append an envelope at `seq`. Resolves once durable. A retry with identical bytes succeeds
   * without writing; different bytes at an existing `seq` throw `conflict` and change nothing.
   * With an adapter that has `create` (see {@link DocumentStore.atomicAppend}) the append is
   * one compare-and-append in the backend: of writers racing on one `seq`, across processes,
   * exactly one wins and the others get `conflict`. Without it the check is against what was
   * stored before the call, so one process must own sequence assignment per document.
   * Appending below the newest snapshot is not refused; such an entry is never read and the
   * next compaction removes it.
   */
  async appendLog(docId: string, seq: number, bytes: Uint8Array): Promise<void> {
    assertBytes(bytes)
    await this.#createOnce([...logPrefix(docId), seqSegment(seq)], bytes, `log entry ${seq}`)
  }

  /**
   * Whether appends are compare-and-append in the backend (the adapter implements `create`),
   * so several processes may append to one document's log or membership chain.
   */
  get atomicAppend(): boolean {
    return typeof this.adapter.create === 'function'
  }

  /**
   * Whether {@link DocumentStore.tryLock} excludes other processes (the adapter implements
   * `tryLock`); without it every lock is granted and one process must own the document.
   */
  get sharedLocks(): boolean {
    return typeof this.adapter.tryLock === 'function'
  }

  /**
   * Try to take the document's exclusive lock `name` (a key segment), across every process on
   * the backend: resolves a release function, or `undefined` if another holder has it. Ends
   * with the holder's process. Without `tryLock` in the adapter it is always granted.
   */
  async tryLock(docId: string, name: string): Promise<(() => Promise<void>) | undefined> {
    const key = [...lockPrefix(docId), name]
    assertValidKey(key)
    if (this.adapter.tryLock === undefined) return async () => undefined
    return this.adapter.tryLock(key)
  }

  /**
   * Append entry `index` of the document's membership chain; the same contract as
   * {@link DocumentStore.appendLog} (identical bytes succeed, others throw `conflict`).
   */
  async appendMember(docId: string, index: number, bytes: Uint8Array): Promise<void> {
    assertBytes(bytes)
    await this.#createOnce([...memberPrefix(docId), seqSegment(index)], bytes, `member ${index}`)
  }

  /** Whether the membership chain holds entry `index`: one key read, nothing listed. */
  async hasMember(docId: string, index: number): Promise<boolean> {
    return (await this.adapter.get([...memberPrefix(docId), seqSegment(index)])) !== undefined
  }

  /** The membership chain's entries in index order. */
  async *readMembers(docId: string): AsyncIterable<LogEntry> {
    for await (const entry of this.adapter.list({ prefix: memberPrefix(docId) })) {
      const seq = parseSeq(entry.key.at(-1)!)
      if (seq !== undefined) yield { seq, bytes: entry.value }
    }
  }

  /**
   * Append claim `n` of the document (the `n`-th change of state that must be decided once
   * across processes, such as a relay's pending and promoted snapshots): the same
   * compare-and-append contract as {@link DocumentStore.appendLog}. Of writers racing on one
   * `n`, exactly one wins; the others get `conflict` and should read {@link latestClaim}.
   */
  async appendClaim(docId: string, n: number, bytes: Uint8Array): Promise<void> {
    assertBytes(bytes)
    await this.#createOnce([...claimPrefix(docId), seqSegment(n)], bytes, `claim ${n}`)
  }

  /** The claim with the highest number, or `undefined` if the document has none. */
  async latestClaim(docId: string): Promise<LogEntry | undefined> {
    // A concurrent prune may delete the newest claim seen between listing and reading: retry.
    for (let attempt = 0; attempt < 5; attempt++) {
      let newest: number | undefined
      for await (const name of this.adapter.listChildren(claimPrefix(docId))) {
        const n = parseSeq(name)
        if (n !== undefined) newest = n
      }
      if (newest === undefined) return undefined
      const bytes = await this.adapter.get([...claimPrefix(docId), seqSegment(newest)])
      if (bytes) return { seq: newest, bytes }
    }
    throw new StorageError('unavailable', 'claims kept changing while reading', {
      retryable: true,
    })
  }

  /** Delete the claims numbered below `n` (superseded; the numbering goes on from the newest). */
  async pruneClaims(docId: string, n: number): Promise<void> {
    const old: StorageKey[] = []
    for await (const name of this.adapter.listChildren(claimPrefix(docId))) {
      const c = parseSeq(name)
      if (c !== undefined && c < n) old.push([...claimPrefix(docId), name])
    }
    await this.#deleteAll(old)
  }

  async #createOnce(key: StorageKey, bytes: Uint8Array, what: string): Promise<void> {
    const create = this.adapter.create?.bind(this.adapter)
    if (create) {
      // Read only when the key was taken: the common append is a single write.
      if (await create(key, bytes)) return
      const existing = await this.adapter.get(key)
      if (existing && equalBytes(existing, bytes)) return
      throw new StorageError('conflict', `${what} already holds different bytes`)
    }
    const existing = await this.adapter.get(key)
    if (existing) {
      if (equalBytes(existing, bytes)) return
      throw new StorageError('conflict', `${what} already holds different bytes`)
    }
    await this.adapter.put(key, bytes)
  }

  /** Log entries in ascending `seq` order within `range`. */
  async *readLog(docId: string, range: SeqRange = {}): AsyncIterable<LogEntry> {
    const prefix = logPrefix(docId)
    const from = range.from === undefined ? undefined : seqSegment(range.from)
    const to = range.to === undefined ? undefined : seqSegment(range.to)
    for await (const entry of this.adapter.list({
      prefix,
      ...(from === undefined ? {} : { start: from }),
      ...(to === undefined ? {} : { end: to }),
      ...(range.limit === undefined ? {} : { limit: range.limit }),
    })) {
      const seq = parseSeq(entry.key.at(-1)!)
      if (seq !== undefined) yield { seq, bytes: entry.value }
    }
  }

  /**
   * The highest sequence number stored for the document (log or snapshot), or `undefined` if
   * it has none. Cost grows with the log entries since the last snapshot.
   */
  async headSeq(docId: string): Promise<number | undefined> {
    let head = (await this.#snapshotSeqs(docId)).at(-1)
    for await (const name of this.adapter.listChildren(logPrefix(docId))) {
      const seq = parseSeq(name)
      if (seq !== undefined && (head === undefined || seq > head)) head = seq
    }
    return head
  }

  /**
   * Store a snapshot covering the log up to and including `seq`, then compact: delete the
   * covered log entries and older snapshots. The snapshot is durable before anything is
   * deleted, so a crash at any point loses nothing. Throws `conflict` if a newer snapshot
   * already exists (this one is stale).
   */
  async putSnapshot(docId: string, seq: number, bytes: Uint8Array): Promise<void> {
    assertBytes(bytes)
    const segment = seqSegment(seq)
    const newest = (await this.#snapshotSeqs(docId)).at(-1)
    if (newest !== undefined && newest > seq) {
      throw new StorageError('conflict', `a newer snapshot (${newest}) exists`)
    }
    await this.adapter.put([...snapPrefix(docId), segment], bytes)
    await this.compact(docId)
  }

  /**
   * Delete log entries and snapshots covered by the newest snapshot. {@link putSnapshot} calls
   * it; call it yourself to finish a compaction a crash interrupted.
   */
  async compact(docId: string): Promise<void> {
    const seqs = await this.#snapshotSeqs(docId)
    const newest = seqs.at(-1)
    if (newest === undefined) return
    // Older snapshots first is not required for safety: the newest is already durable.
    await this.#deleteAll(seqs.slice(0, -1).map((s) => [...snapPrefix(docId), seqSegment(s)]))
    const limit = seqSegment(newest)
    for (;;) {
      const batch: StorageKey[] = []
      for await (const name of this.adapter.listChildren(logPrefix(docId))) {
        if (name > limit || batch.length >= BATCH) break
        batch.push([...logPrefix(docId), name])
      }
      if (batch.length === 0) return
      await this.#deleteAll(batch)
    }
  }

  /** The sequence number the newest snapshot covers, or `undefined` if there is none. */
  async snapshotSeq(docId: string): Promise<number | undefined> {
    return (await this.#snapshotSeqs(docId)).at(-1)
  }

  /** The newest snapshot, or `undefined` if the document has none. */
  async getSnapshot(docId: string): Promise<Snapshot | undefined> {
    // A concurrent compaction may delete the snapshot between listing and reading: retry.
    for (let attempt = 0; attempt < 5; attempt++) {
      const seq = (await this.#snapshotSeqs(docId)).at(-1)
      if (seq === undefined) return undefined
      const bytes = await this.adapter.get([...snapPrefix(docId), seqSegment(seq)])
      if (bytes) return { seq, bytes }
    }
    throw new StorageError('unavailable', 'snapshots kept changing while reading', {
      retryable: true,
    })
  }

  /** Store a blob from a stream in constant memory; resolves with its size once durable. */
  async putBlob(docId: string, blobId: string, source: AsyncIterable<Uint8Array>): Promise<number> {
    return this.adapter.putStream(blobKey(docId, blobId), source)
  }

  /** Read a blob as a stream, or `undefined` if it does not exist. */
  async getBlob(docId: string, blobId: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    return this.adapter.getStream(blobKey(docId, blobId))
  }

  /** Delete one blob (idempotent). */
  async deleteBlob(docId: string, blobId: string): Promise<void> {
    return this.adapter.delete(blobKey(docId, blobId))
  }

  /** The ids of a document's blobs, in byte order. */
  async *listBlobs(docId: string): AsyncIterable<string> {
    yield* this.adapter.listChildren(blobPrefix(docId))
  }

  /**
   * Erase everything of a document (log, snapshots, blobs) from the backend, leaving no bytes
   * and no empty containers (GDPR erasure, retention). Idempotent.
   */
  async deleteDocument(docId: string): Promise<void> {
    return this.adapter.deletePrefix(docKey(docId))
  }

  /** The ids of all stored documents, in byte order. */
  async *listDocuments(): AsyncIterable<string> {
    yield* this.adapter.listChildren(DOCS)
  }

  async #snapshotSeqs(docId: string): Promise<number[]> {
    const seqs: number[] = []
    for await (const name of this.adapter.listChildren(snapPrefix(docId))) {
      const seq = parseSeq(name)
      if (seq !== undefined) seqs.push(seq)
    }
    return seqs
  }

  async #deleteAll(keys: readonly StorageKey[]): Promise<void> {
    let next = 0
    await Promise.all(
      Array.from({ length: Math.min(PARALLEL, keys.length) }, async () => {
        while (next < keys.length) await this.adapter.delete(keys[next++]!)
      }),
    )
  }
}

function assertBytes(bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    throw new StorageError('invalid-value', 'bytes must be a Uint8Array')
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}
