import { StorageError } from '@valv/storage'
import { promisifyRequest, type UseStore } from 'idb-keyval'

/** A {@link UseStore} that can also be closed. */
export interface ClosableStore {
  readonly use: UseStore
  close(): void
}

/**
 * Open (creating if needed) `dbName` with object store `storeName`, like idb-keyval's
 * `createStore`, but with a durability hint on write transactions (idb-keyval offers none) and
 * tolerant of an existing database that lacks the store (it is added by a version upgrade).
 */
export function openStore(
  factory: IDBFactory | undefined,
  dbName: string,
  storeName: string,
  durability: 'strict' | 'relaxed' | 'default',
): ClosableStore {
  let db: Promise<IDBDatabase> | undefined
  const connect = async (): Promise<IDBDatabase> => {
    if (!factory)
      throw new StorageError('missing-backend', 'IndexedDB is not available in this environment')
    const open = (version?: number) => {
      const request = version === undefined ? factory.open(dbName) : factory.open(dbName, version)
      request.onupgradeneeded = () => {
        if (!request.result.objectStoreNames.contains(storeName))
          request.result.createObjectStore(storeName)
      }
      return promisifyRequest(request)
    }
    let opened = await open()
    if (!opened.objectStoreNames.contains(storeName)) {
      const next = opened.version + 1
      opened.close()
      opened = await open(next)
    }
    // Another tab upgrading the database must not be blocked by us: close and reopen lazily.
    opened.onversionchange = () => {
      opened.close()
      db = undefined
    }
    return opened
  }
  const use: UseStore = async (mode, callback) => {
    db ??= connect().catch((error: unknown) => {
      db = undefined
      throw error
    })
    const database = await db
    const tx =
      mode === 'readwrite'
        ? database.transaction(storeName, mode, { durability })
        : database.transaction(storeName, mode)
    const result = await callback(tx.objectStore(storeName))
    // Writes resolve only after the transaction committed (and, with `strict`, was flushed).
    if (mode === 'readwrite') await promisifyRequest(tx)
    return result
  }
  return {
    use,
    close: () => {
      void db?.then((d) => d.close()).catch(() => undefined)
      db = undefined
    },
  }
}
