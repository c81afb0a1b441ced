import type { KeyRange, StorageAdapter, StorageEntry, StorageKey } from './adapter.js'
import { StorageError } from './errors.js'

/** Where {@link routeStorage} sends what. */
export interface StorageRoutes {
  /** Values: log, membership, claims, tombstones; `create` and `tryLock` (e.g. PostgreSQL). */
  readonly default: StorageAdapter
  /** Streamed blobs (files) and, with `snapshots`, snapshot values (e.g. S3). */
  readonly blobs: StorageAdapter
  /**
   * Also keep snapshot values (`docs/<id>/snap/<seq>`) in `blobs` (default `true`): snapshots
   * are the other large, write-once objects of the layout.
   */
  readonly snapshots?: boolean
}

// A snapshot value of the DocumentStore layout (see layout.ts): docs/<id>/snap/<seq>.
const isSnapshotKey = (key: StorageKey): boolean =>
  key.length === 4 && key[0] === 'docs' && key[2] === 'snap'

// Merge two ordered, distinct streams of segments into one (ordered, distinct). Segments are
// ASCII ([A-Za-z0-9._~-]), so string comparison is byte order.
async function* mergeOrdered(
  a: AsyncIterable<string>,
  b: AsyncIterable<string>,
): AsyncGenerator<string> {
  const ia = a[Symbol.asyncIterator]()
  const ib = b[Symbol.asyncIterator]()
  let x = await ia.next()
  let y = await ib.next()
  while (!x.done || !y.done) {
    if (y.done || (!x.done && x.value < y.value)) {
      yield x.value as string
      x = await ia.next()
    } else if (x.done || y.value < x.value) {
      yield y.value
      y = await ib.next()
    } else {
      yield x.value
      x = await ia.next()
      y = await ib.next()
    }
  }
}

/**
 * One {@link StorageAdapter} over two: streamed blobs (and, by default, snapshot values) go to
 * `blobs`, everything else to `default`. This is how a relay keeps its log, membership and
 * claims in PostgreSQL (atomic `create`, `tryLock`) and file bodies and snapshots in S3-compatible
 * object storage. Values and blobs are separate namespaces of the seam, so the split keeps its
 * contract: `delete`, `deletePrefix` and `listChildren` cover both adapters, `create` and
 * `tryLock` come from `default` (a snapshot key routed to an adapter without `create` refuses
 * `create` with `invalid-key`; `DocumentStore` never creates snapshot keys). `close` closes both.
 * Nothing is atomic across the two, as across keys of one adapter.
 *
 * @example
 * ```ts
 * import { MemoryStorageAdapter } from '@valv/storage-memory'
 * const storage = routeStorage({
 *   default: new MemoryStorageAdapter(), // e.g. PostgresStorageAdapter
 *   blobs: new MemoryStorageAdapter(), // e.g. S3StorageAdapter
 * })
 * const store = new DocumentStore(storage)
 * ```
 */
export function routeStorage(routes: StorageRoutes): StorageAdapter {
  const { default: main, blobs } = routes
  const snapshots = routes.snapshots ?? true
  const forValue = (key: StorageKey): StorageAdapter =>
    snapshots && isSnapshotKey(key) ? blobs : main
  // `list` returns keys of prefix.length + 1 segments: a snapshot key iff the prefix is docs/<id>/snap.
  const forList = (prefix: StorageKey): StorageAdapter =>
    snapshots && prefix.length === 3 && prefix[0] === 'docs' && prefix[2] === 'snap' ? blobs : main
  const both = main === blobs ? [main] : [main, blobs]
  const adapter: StorageAdapter = {
    get: (key) => forValue(key).get(key),
    put: (key, value) => forValue(key).put(key, value),
    delete: async (key) => {
      await Promise.all(both.map((a) => a.delete(key)))
    },
    list: (range: KeyRange): AsyncIterable<StorageEntry> => forList(range.prefix).list(range),
    listChildren: (prefix) =>
      both.length === 1
        ? main.listChildren(prefix)
        : mergeOrdered(main.listChildren(prefix), blobs.listChildren(prefix)),
    deletePrefix: async (prefix) => {
      await Promise.all(both.map((a) => a.deletePrefix(prefix)))
    },
    putStream: (key, source) => blobs.putStream(key, source),
    getStream: (key) => blobs.getStream(key),
    close: async () => {
      await Promise.all(both.map((a) => a.close()))
    },
  }
  if (main.create) {
    const create = main.create.bind(main)
    adapter.create = async (key, value) => {
      const target = forValue(key)
      if (target === main) return create(key, value)
      if (target.create) return target.create(key, value)
      throw new StorageError('invalid-key', 'create is not available for a routed snapshot key')
    }
  }
  if (main.tryLock) adapter.tryLock = main.tryLock.bind(main)
  return adapter
}
