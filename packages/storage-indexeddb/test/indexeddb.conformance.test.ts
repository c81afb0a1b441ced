import 'fake-indexeddb/auto'
import { runStorageAdapterTests } from '@valv/storage/conformance'
import { promisifyRequest } from 'idb-keyval'
import { IndexedDBStorageAdapter } from '../src/index.js'

let counter = 0

/** Every record of the object store: keys (as text) and values (bytes, or their JSON). */
async function scanRecords(dbName: string) {
  const db = await promisifyRequest(indexedDB.open(dbName))
  try {
    const store = db.transaction('storage').objectStore('storage')
    const [keys, values] = await Promise.all([
      promisifyRequest(store.getAllKeys()),
      promisifyRequest(store.getAll()),
    ])
    const utf8 = (s: string) => new TextEncoder().encode(s)
    const items = [
      ...keys.map((k) => utf8(JSON.stringify(k))),
      ...values.map((v: unknown) => (v instanceof Uint8Array ? v : utf8(JSON.stringify(v)))),
    ]
    // One object store for everything: no per-document containers can be left behind.
    return { items, emptyContainers: [] as string[] }
  } finally {
    db.close()
  }
}

runStorageAdapterTests('IndexedDBStorageAdapter (fake-indexeddb)', async () => {
  const dbName = `valv-conformance-${++counter}`
  const adapter = new IndexedDBStorageAdapter({ dbName })
  return {
    adapter,
    reopen: async () => new IndexedDBStorageAdapter({ dbName }),
    scanRaw: () => scanRecords(dbName),
    // fake-indexeddb keeps its records in this process.
    holdsDataInMemory: true,
    teardown: async () => {
      await adapter.close()
      await promisifyRequest(indexedDB.deleteDatabase(dbName))
    },
  }
})
