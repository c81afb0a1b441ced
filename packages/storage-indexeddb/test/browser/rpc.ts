// Runs in the page: exposes IndexedDBStorageAdapter instances to the Node test process, one
// call at a time, so the shared conformance suite (which runs in Node) drives the real
// adapter on Chromium's real IndexedDB. Bytes travel as base64; streams as one call per chunk.
import { DocumentStore, StorageError } from '@valv/storage'
import { IndexedDBStorageAdapter } from '../../src/index.js'

type Key = string[]
type Reply = { ok: unknown } | { error: { name: string; code?: string; message: string } }

const adapters = new Map<number, IndexedDBStorageAdapter>()
interface Write {
  readonly push: (c: Uint8Array | Error | null) => Promise<void>
  readonly done: Promise<number>
  settled: boolean
}
const writes = new Map<number, Write>()
const reads = new Map<number, AsyncIterator<Uint8Array>>()
let next = 0

const b64 = (bytes: Uint8Array): string => {
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(s)
}
const unb64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0))
const adapter = (id: number) => adapters.get(id)!

/** A one-slot channel: `push` resolves once the adapter has taken the item. */
function channel() {
  const queue: { item: Uint8Array | Error | null; taken: () => void }[] = []
  let wake: (() => void) | undefined
  async function* source(): AsyncGenerator<Uint8Array> {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r))
      const { item, taken } = queue.shift()!
      taken()
      if (item === null) return
      if (item instanceof Error) throw item
      yield item
    }
  }
  const push = (item: Uint8Array | Error | null) =>
    new Promise<void>((taken) => {
      queue.push({ item, taken })
      wake?.()
    })
  return { source: source(), push }
}

const ops: Record<string, (...args: never[]) => Promise<unknown>> = {
  open: async (dbName: string) => {
    adapters.set(++next, new IndexedDBStorageAdapter({ dbName }))
    return next
  },
  get: async (id: number, key: Key) => {
    const v = await adapter(id).get(key)
    return v && b64(v)
  },
  put: (id: number, key: Key, value: string) => adapter(id).put(key, unb64(value)),
  delete: (id: number, key: Key) => adapter(id).delete(key),
  deletePrefix: (id: number, key: Key) => adapter(id).deletePrefix(key),
  list: async (
    id: number,
    range: { prefix: Key; start?: string; end?: string; limit?: number },
  ) => {
    const out: [Key, string][] = []
    for await (const e of adapter(id).list(range)) out.push([[...e.key], b64(e.value)])
    return out
  },
  listChildren: async (id: number, prefix: Key) => {
    const out: string[] = []
    for await (const c of adapter(id).listChildren(prefix)) out.push(c)
    return out
  },
  close: (id: number) => adapter(id).close(),
  beginPut: async (id: number, key: Key) => {
    const { source, push } = channel()
    const write: Write = { push, done: adapter(id).putStream(key, source), settled: false }
    write.done.then(
      () => (write.settled = true),
      () => (write.settled = true),
    )
    writes.set(++next, write)
    return next
  },
  // Resolves when the adapter took the chunk (backpressure), or with the outcome of the
  // write once it ended (end of source, failing source, or the adapter gave up early).
  pushPut: async (wid: number, chunk: string | null, fail: boolean) => {
    const w = writes.get(wid)!
    const item = fail ? new Error('source broke') : chunk === null ? null : unb64(chunk)
    await Promise.race([w.push(item), w.done.catch(() => undefined)])
    if (item instanceof Uint8Array && !w.settled) return { more: true }
    writes.delete(wid)
    return { size: await w.done }
  },
  openRead: async (id: number, key: Key) => {
    const stream = await adapter(id).getStream(key)
    if (!stream) return null
    reads.set(++next, stream[Symbol.asyncIterator]())
    return next
  },
  readNext: async (rid: number) => {
    const r = await reads.get(rid)!.next()
    if (!r.done) return b64(r.value)
    reads.delete(rid)
    return null
  },
  // Every record of the object store, as the browser's IndexedDB holds it.
  scan: async (dbName: string) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open(dbName)
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
    try {
      const store = db.transaction('storage').objectStore('storage')
      const all = <T>(req: IDBRequest<T>) =>
        new Promise<T>((resolve, reject) => {
          req.onsuccess = () => resolve(req.result)
          req.onerror = () => reject(req.error)
        })
      const [keys, values] = await Promise.all([all(store.getAllKeys()), all(store.getAll())])
      const text = (v: unknown) => b64(new TextEncoder().encode(JSON.stringify(v)))
      return [...keys.map(text), ...values.map((v) => (v instanceof Uint8Array ? b64(v) : text(v)))]
    } finally {
      db.close()
    }
  },
  drop: (dbName: string) =>
    new Promise<void>((resolve) => {
      const req = indexedDB.deleteDatabase(dbName)
      req.onsuccess = () => resolve()
      req.onerror = () => resolve()
    }),
}

/** Entry point called by `page.evaluate`; never throws, so error codes survive the trip. */
async function call(op: string, args: unknown[]): Promise<Reply> {
  try {
    return { ok: await (ops[op] as (...a: unknown[]) => Promise<unknown>)(...args) }
  } catch (e) {
    const error = e as Error
    return {
      error: {
        name: error.name,
        message: error.message,
        ...(e instanceof StorageError ? { code: e.code } : {}),
      },
    }
  }
}

;(globalThis as { valvRpc?: unknown }).valvRpc = call
;(globalThis as { valvIdb?: unknown }).valvIdb = { IndexedDBStorageAdapter, DocumentStore }
