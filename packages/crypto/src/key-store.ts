/**
 * Where a {@link DocumentSession} keeps its local copy of a document's membership chain and its
 * (encrypted) epoch keys, so a document opens offline. The shape matches `StorageAdapter` of
 * `@valv/storage`, so any storage adapter (IndexedDB in browsers, filesystem in Node) is a key
 * store. Stored values are public chain entries or ciphertext under a device-derived key.
 *
 * @example
 * ```ts
 * import { IndexedDBStorageAdapter } from '@valv/storage-indexeddb'
 * const store: KeyStore = new IndexedDBStorageAdapter({ dbName: 'valv' })
 * ```
 */
export interface KeyStore {
  /** Read a value, or `undefined`. */
  get(key: readonly string[]): Promise<Uint8Array | undefined>
  /** Write a value durably. */
  put(key: readonly string[], value: Uint8Array): Promise<void>
}

/**
 * A {@link KeyStore} that can also forget: what crypto-shredding (`eraseLocalKeys`) needs. Every
 * `StorageAdapter` of `@valv/storage` is one, and so is {@link memoryKeyStore}.
 */
export interface ErasableKeyStore extends KeyStore {
  /** Remove every value whose key starts with `prefix`; durable when resolved. */
  deletePrefix(prefix: readonly string[]): Promise<void>
}

/**
 * A key store in memory (tests, and sessions that need not survive a reload).
 *
 * @example
 * ```ts
 * const session = await DocumentSession.create(me, { keyStore: memoryKeyStore() })
 * ```
 */
export function memoryKeyStore(): ErasableKeyStore {
  const map = new Map<string, Uint8Array>()
  return {
    get: async (key) => map.get(key.join('/'))?.slice(),
    put: async (key, value) => {
      map.set(key.join('/'), value.slice())
    },
    deletePrefix: async (prefix) => {
      const p = prefix.join('/')
      for (const [k, v] of map) {
        if (p === '' || k === p || k.startsWith(`${p}/`)) {
          // Overwrite before forgetting: the map held the only reference to these bytes.
          v.fill(0)
          map.delete(k)
        }
      }
    },
  }
}
