import { ComplianceError } from '../errors.js'

/** Options of {@link scrubIndexedDB}. */
export interface ScrubIndexedDBOptions {
  /**
   * Bytes of filler to write and delete, in MiB (default 24). Enough to make Chromium's LevelDB
   * roll its log and compact several times; measured in `erasure-indexeddb.test.ts`.
   */
  readonly megabytes?: number
  /** The scratch database's name (default `valv-scrub`); deleted afterwards. */
  readonly dbName?: string
  /** The `IDBFactory` (default `globalThis.indexedDB`). */
  readonly indexedDB?: IDBFactory
}

function done<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result)
    r.onerror = () => reject(r.error)
  })
}

function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onerror = () => reject(tx.error)
    tx.onabort = () => reject(tx.error)
  })
}

/**
 * Push deleted bytes out of the browser's IndexedDB files after `eraseDocument` on a browser
 * device. Chromium writes IndexedDB through LevelDB: a deleted record stays in the database's
 * log file until LevelDB rolls the log and compacts, which a page cannot ask for, and a small
 * document never fills the log. This writes `megabytes` of random filler in small records to a
 * scratch database, deletes it again, and deletes the database; LevelDB (one per origin) then
 * rolls its log and compacts, and the erased records go with the filler. Best effort: it
 * relies on the storage engine's behaviour (measured on Chromium; Firefox and Safari keep
 * IndexedDB in SQLite), and ciphertext left behind is still unreadable once the keys are gone
 * only if the key store's own bytes went too — which is what this is for.
 *
 * @example
 * ```ts
 * declare const request: EraseRequest // see eraseDocument
 * const receipt = await eraseDocument(request)
 * await scrubIndexedDB() // then the key store's deleted bytes leave the profile's files
 * ```
 */
export async function scrubIndexedDB(options: ScrubIndexedDBOptions = {}): Promise<void> {
  const factory = options.indexedDB ?? globalThis.indexedDB
  if (factory === undefined) throw new ComplianceError('unsupported', 'no IndexedDB here')
  const name = options.dbName ?? 'valv-scrub'
  const megabytes = options.megabytes ?? 24
  const opening = factory.open(name, 1)
  opening.onupgradeneeded = () => opening.result.createObjectStore('filler')
  const db = await done(opening)
  try {
    // Small records: large values go to separate blob files and never pass through the log.
    for (let mb = 0; mb < megabytes; mb++) {
      const tx = db.transaction('filler', 'readwrite')
      const store = tx.objectStore('filler')
      for (let i = 0; i < 256; i++) {
        store.put(globalThis.crypto.getRandomValues(new Uint8Array(4096)), mb * 256 + i)
      }
      await committed(tx)
    }
    const tx = db.transaction('filler', 'readwrite')
    tx.objectStore('filler').clear()
    await committed(tx)
  } finally {
    db.close()
  }
  await done(factory.deleteDatabase(name))
}
