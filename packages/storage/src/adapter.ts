/**
 * The seam every Valv storage backend implements: a small, ordered key/value store for opaque
 * bytes plus streamed blobs. It knows nothing about documents, logs or snapshots; the key layout
 * and compaction live once, above it, in {@link DocumentStore}.
 *
 * Keys are arrays of path segments. A segment is a non-empty string of `[A-Za-z0-9._~-]`
 * (at most 200 characters), so every backend can use it as a file name, an S3 key part or a
 * SQL text value without escaping. Ordering of `list` is by the byte order of the full key
 * (segment by segment), which is why the layout above zero-pads numbers.
 *
 * Values (`put`/`get`/`list`) and blobs (`putStream`/`getStream`) are two namespaces that share
 * the key syntax: `list` sees only values; `get` never returns a blob; `delete`, `listChildren`
 * and `deletePrefix` cover both.
 *
 * Durability contract ("resolved = durable"): when a `put`, `putStream`, `delete` or
 * `deletePrefix` promise resolves, the change survives a crash of the process (and, where
 * the backend allows, of the machine). A `put` is atomic per key: a reader sees the old
 * value or the new one, never a mix. Nothing is atomic across keys, so the layout above
 * writes new objects first and deletes old ones after (crash leaves extra data, never
 * missing data).
 */
export type StorageKey = readonly string[]

/**
 * A range of keys below one prefix: `[prefix..., s]` for `start <= s < end`. A range with
 * `start >= end` is empty: `list` yields nothing and does not throw (on every adapter).
 */
export interface KeyRange {
  /** Keys returned start with these segments and have exactly one more. */
  readonly prefix: StorageKey
  /** Inclusive lower bound on the last segment. */
  readonly start?: string
  /** Exclusive upper bound on the last segment. */
  readonly end?: string
  /** Return at most this many entries. */
  readonly limit?: number
}

/** One stored value with its full key. */
export interface StorageEntry {
  /** The full key, prefix included. */
  readonly key: StorageKey
  /** The stored bytes. */
  readonly value: Uint8Array
}

/**
 * A backend for opaque bytes. Implementations: `@valv/storage-memory`, `-fs`, `-sqlite`,
 * `-postgres`, `-s3`, `-indexeddb`. Every implementation passes `runStorageAdapterTests`
 * from `@valv/storage/conformance`.
 *
 * @example
 * ```ts
 * const store = new DocumentStore(new MemoryStorageAdapter())
 * await store.appendLog(docId, 1, bytes)
 * ```
 */
export interface StorageAdapter {
  /** Read one value, or `undefined` if the key does not exist. */
  get(key: StorageKey): Promise<Uint8Array | undefined>
  /** Write one value (create or replace). Atomic per key; durable when resolved. */
  put(key: StorageKey, value: Uint8Array): Promise<void>
  /**
   * Write one value only if the key holds none: atomic against every other writer of the same
   * backend (other processes included), durable when resolved. Resolves `true` if written,
   * `false` if a value was already there (nothing changed). Optional: backends that can decide
   * it in one step (a SQL insert, an in-memory check) implement it, and {@link DocumentStore}
   * then appends without reading first; relays that share a store need it (scale-out).
   */
  create?(key: StorageKey, value: Uint8Array): Promise<boolean>
  /**
   * Try to take the exclusive lock named `key` (a name only: it stores nothing), against every
   * other holder on the same backend, other processes and this adapter included. Resolves a
   * function that releases it, or `undefined` at once if it is held. A lock also ends when its
   * holder's process dies or this adapter closes, so a crashed node never blocks the others.
   * Optional: backends shared by several processes implement it (PostgreSQL: session advisory
   * locks); relays that share a store use it to serialise file uploads (scale-out).
   */
  tryLock?(key: StorageKey): Promise<(() => Promise<void>) | undefined>
  /** Remove one value or blob. Removing a missing key succeeds (idempotent). */
  delete(key: StorageKey): Promise<void>
  /** Entries directly below `range.prefix` with the last segment in range, in key order. */
  list(range: KeyRange): AsyncIterable<StorageEntry>
  /** The distinct segments that directly follow `prefix` in any stored key, in order. */
  listChildren(prefix: StorageKey): AsyncIterable<string>
  /**
   * Remove every value and blob whose key starts with `prefix` (the prefix itself included),
   * leaving no empty directories, rows or objects behind.
   */
  deletePrefix(prefix: StorageKey): Promise<void>
  /**
   * Store a blob from a stream in constant memory. Atomic: a crash mid-stream leaves the old
   * value (or nothing). Resolves with the number of bytes written.
   */
  putStream(key: StorageKey, source: AsyncIterable<Uint8Array>): Promise<number>
  /** Read a blob as a stream in constant memory, or `undefined` if it does not exist. */
  getStream(key: StorageKey): Promise<AsyncIterable<Uint8Array> | undefined>
  /** Release connections and handles. The adapter is unusable afterwards. */
  close(): Promise<void>
}
