import type { UseStore } from 'idb-keyval'

/**
 * Where {@link IndexedDBStorageAdapter} keeps its data.
 *
 * @example
 * ```ts
 * const options: IndexedDBStorageOptions = { dbName: 'valv-offline', storeName: 'storage' }
 * ```
 */
export interface IndexedDBStorageOptions {
  /** Database name (default `valv`). Use one per signed-in account on shared devices. */
  readonly dbName?: string
  /** Object store name inside the database (default `storage`). */
  readonly storeName?: string
  /**
   * Transaction durability for writes (default `strict`: the browser flushes to disk before a
   * write resolves, which is what "resolved = durable" needs). `relaxed` is faster but a crash
   * of the browser or OS may lose the last acknowledged writes.
   */
  readonly durability?: 'strict' | 'relaxed' | 'default'
  /** Bytes per stored blob chunk (default 1 MiB, between 16 KiB and 64 MiB). */
  readonly chunkSize?: number
  /** The IndexedDB factory (default `globalThis.indexedDB`), e.g. from `fake-indexeddb`. */
  readonly indexedDB?: IDBFactory
  /**
   * Use an existing idb-keyval store (from `createStore(db, store)`) instead of opening one.
   * Its transactions use the browser's default durability; `close()` leaves it open.
   */
  readonly store?: UseStore
}

/** Options after defaults and validation. */
export interface ResolvedIdbOptions {
  readonly dbName: string
  readonly storeName: string
  readonly durability: 'strict' | 'relaxed' | 'default'
  readonly chunkSize: number
}

/** Apply defaults; throws `TypeError` on out-of-range values. */
export function resolveIdbOptions(options: IndexedDBStorageOptions): ResolvedIdbOptions {
  const chunkSize = options.chunkSize ?? 1 << 20
  if (!Number.isInteger(chunkSize) || chunkSize < 1 << 14 || chunkSize > 1 << 26) {
    throw new TypeError('chunkSize must be an integer between 16 KiB and 64 MiB')
  }
  const durability = options.durability ?? 'strict'
  if (!['strict', 'relaxed', 'default'].includes(durability))
    throw new TypeError('invalid durability')
  return {
    dbName: options.dbName ?? 'valv',
    storeName: options.storeName ?? 'storage',
    durability,
    chunkSize,
  }
}
