import {
  assertValidKey,
  type KeyRange,
  rechunk,
  type StorageAdapter,
  type StorageEntry,
  StorageError,
  type StorageKey,
} from '@valv/storage'
import { promisifyRequest, type UseStore } from 'idb-keyval'
import { walk } from './cursor.js'
import { toStorageError } from './errors.js'
import { allChunksAt, blobKey, chunkKey, chunksOf, subtree, valueKey } from './keys.js'
import { type ClosableStore, openStore } from './open.js'
import {
  type IndexedDBStorageOptions,
  type ResolvedIdbOptions,
  resolveIdbOptions,
} from './options.js'

const PAGE = 256
const PAGE_BYTES = 4 << 20

/** What a blob record holds; the bytes live in `chunks` chunk records. */
interface BlobRecord {
  readonly id: number
  readonly size: number
  readonly chunks: number
}

/**
 * {@link StorageAdapter} on IndexedDB (through idb-keyval's store helpers), for browsers: the
 * offline cache of Valv providers. It holds only what the providers give it, which is
 * ciphertext envelopes and wrapped keys; nothing stored is readable without the device key.
 *
 * Blobs are split into chunk records written one transaction each (constant memory), then
 * published by one transaction that swaps the blob record and drops the previous chunks, so
 * readers see the old blob or the new one. Writes resolve when their transaction commits,
 * with `durability: 'strict'` by default ("resolved = durable").
 *
 * @example
 * ```ts
 * const adapter = new IndexedDBStorageAdapter({ dbName: `valv-${me.card.userId}` })
 * const store = new DocumentStore(adapter)
 * ```
 */
export class IndexedDBStorageAdapter implements StorageAdapter {
  readonly #o: ResolvedIdbOptions
  readonly #store: UseStore
  readonly #owned: ClosableStore | undefined
  #closed = false

  /** Create the adapter; the database is opened on first use. */
  constructor(options: IndexedDBStorageOptions = {}) {
    this.#o = resolveIdbOptions(options)
    if (options.store) {
      this.#store = options.store
      this.#owned = undefined
    } else {
      this.#owned = openStore(
        options.indexedDB ?? globalThis.indexedDB,
        this.#o.dbName,
        this.#o.storeName,
        this.#o.durability,
      )
      this.#store = this.#owned.use
    }
  }

  async get(key: StorageKey): Promise<Uint8Array | undefined> {
    assertValidKey(key)
    return this.#run('get', 'readonly', (s) =>
      promisifyRequest<Uint8Array | undefined>(s.get(valueKey(key))),
    )
  }

  async put(key: StorageKey, value: Uint8Array): Promise<void> {
    assertValidKey(key)
    if (!(value instanceof Uint8Array)) throw new TypeError('value must be a Uint8Array')
    // Store an exact-length copy: a view into a larger buffer would clone the whole buffer.
    const copy = value.slice()
    await this.#run('put', 'readwrite', (s) => {
      s.put(copy, valueKey(key))
    })
  }

  async delete(key: StorageKey): Promise<void> {
    assertValidKey(key)
    await this.#run('delete', 'readwrite', (s) => {
      s.delete(valueKey(key))
      s.delete(blobKey(key))
      // Every chunk at this key, including those of interrupted uploads.
      s.delete(allChunksAt(key))
    })
  }

  async deletePrefix(prefix: StorageKey): Promise<void> {
    assertValidKey(prefix, true)
    await this.#run('deletePrefix', 'readwrite', (s) => {
      for (const tag of ['v', 'b', 'c']) s.delete(subtree(tag, prefix))
    })
  }

  async *list(range: KeyRange): AsyncIterable<StorageEntry> {
    assertValidKey(range.prefix, true)
    if (range.start !== undefined) assertValidKey([range.start])
    if (range.end !== undefined) assertValidKey([range.end])
    let remaining = range.limit ?? Number.POSITIVE_INFINITY
    // An empty range is an empty result, as on every adapter; IDBKeyRange.bound would throw.
    if (range.start !== undefined && range.end !== undefined && range.start >= range.end) return
    const prefix = [...range.prefix]
    const depth = prefix.length + 2
    const upper: IDBValidKey[] = ['v', ...prefix, range.end ?? []]
    let lower: IDBValidKey[] = ['v', ...prefix, range.start ?? '']
    let lowerOpen = false
    while (remaining > 0) {
      const page: StorageEntry[] = []
      let bytes = 0
      let exhausted = true
      const bound = IDBKeyRange.bound(lower, upper, lowerOpen, true)
      await this.#run('list', 'readonly', (s) =>
        walk(s.openCursor(bound), (cursor) => {
          const key = cursor.key as string[]
          // A deeper key: skip that child's whole subtree in one jump.
          if (key.length !== depth) return ['v', ...prefix, key[depth - 1]!, []]
          const value = cursor.value as Uint8Array
          page.push({ key: key.slice(1), value })
          bytes += value.byteLength
          if (page.length >= Math.min(PAGE, remaining) || bytes >= PAGE_BYTES) {
            exhausted = false
            return true
          }
          return undefined
        }),
      )
      for (const entry of page) yield entry
      remaining -= page.length
      const last = page[page.length - 1]
      if (exhausted || last === undefined) return
      lower = ['v', ...last.key]
      lowerOpen = true
    }
  }

  async *listChildren(prefix: StorageKey): AsyncIterable<string> {
    assertValidKey(prefix, true)
    const base = [...prefix]
    let after: string | undefined
    for (;;) {
      // Children of the value and blob namespaces, merged; a namespace whose page filled up
      // limits how far the merged page is complete.
      const pages = await this.#run('listChildren', 'readonly', (s) =>
        Promise.all(['v', 'b'].map((tag) => childrenPage(s, tag, base, after))),
      )
      let cutoff: string | undefined
      for (const page of pages) {
        const last = page[page.length - 1]
        if (page.length === PAGE && last !== undefined && (cutoff === undefined || last < cutoff))
          cutoff = last
      }
      const merged = [...new Set(pages.flat())]
        .filter((c) => cutoff === undefined || c <= cutoff)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      yield* merged
      if (cutoff === undefined) return
      after = cutoff
    }
  }

  async putStream(key: StorageKey, source: AsyncIterable<Uint8Array>): Promise<number> {
    assertValidKey(key)
    const id = randomId()
    let size = 0
    let chunks = 0
    try {
      for await (const chunk of rechunk(source, this.#o.chunkSize)) {
        const seq = chunks++
        await this.#run('putStream', 'readwrite', (s) => {
          s.put(chunk, chunkKey(key, id, seq))
        })
        size += chunk.byteLength
      }
      await this.#run('putStream', 'readwrite', (s) => publish(s, key, { id, size, chunks }))
      return size
    } catch (error) {
      // Best effort; leftovers are also removed by delete/deletePrefix of the key.
      await this.#run('putStream', 'readwrite', (s) => {
        s.delete(chunksOf(key, id))
      }).catch(() => undefined)
      throw error
    }
  }

  async getStream(key: StorageKey): Promise<AsyncIterable<Uint8Array> | undefined> {
    assertValidKey(key)
    const blob = await this.#run('getStream', 'readonly', (s) =>
      promisifyRequest<BlobRecord | undefined>(s.get(blobKey(key))),
    )
    if (blob === undefined) return undefined
    const run = this.#run.bind(this)
    // Chunks of one id never change, so reading them one transaction at a time still yields
    // exactly one version; if the blob is replaced meanwhile its old chunks vanish and the
    // reader is told to retry rather than handed a mix.
    return (async function* () {
      for (let seq = 0; seq < blob.chunks; seq++) {
        const chunk = await run('getStream', 'readonly', (s) =>
          promisifyRequest<Uint8Array | undefined>(s.get(chunkKey(key, blob.id, seq))),
        )
        if (chunk === undefined) {
          throw new StorageError('conflict', 'the blob was replaced or deleted while being read', {
            retryable: true,
          })
        }
        yield chunk
      }
    })()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#owned?.close()
  }

  async #run<T>(
    what: string,
    mode: IDBTransactionMode,
    body: (store: IDBObjectStore) => T | PromiseLike<T>,
  ): Promise<T> {
    if (this.#closed) throw new StorageError('closed', 'the IndexedDB adapter was closed')
    try {
      return await this.#store(mode, body)
    } catch (error) {
      throw toStorageError(error, what)
    }
  }
}

/** Up to {@link PAGE} distinct children of `base` in namespace `tag`, after `after`. */
async function childrenPage(
  store: IDBObjectStore,
  tag: string,
  base: string[],
  after: string | undefined,
): Promise<string[]> {
  const out: string[] = []
  const lower: IDBValidKey[] = after === undefined ? [tag, ...base, ''] : [tag, ...base, after, []]
  const range = IDBKeyRange.bound(lower, [tag, ...base, []], false, true)
  await walk(store.openKeyCursor(range), (cursor) => {
    const child = (cursor.key as string[])[base.length + 1]!
    out.push(child)
    if (out.length >= PAGE) return true
    return [tag, ...base, child, []]
  })
  return out
}

/**
 * Make blob `next` current at `key` in one transaction: check all its chunks arrived (a
 * concurrent delete may have removed them), swap the record, drop the old chunks.
 */
function publish(store: IDBObjectStore, key: StorageKey, next: BlobRecord): Promise<void> {
  return new Promise((resolve, reject) => {
    const count = store.count(chunksOf(key, next.id))
    count.onerror = () => reject(count.error)
    count.onsuccess = () => {
      if (count.result !== next.chunks) {
        store.transaction.abort()
        return reject(
          new StorageError('conflict', 'the blob was deleted while it was being written', {
            retryable: true,
          }),
        )
      }
      const old = store.get(blobKey(key))
      old.onerror = () => reject(old.error)
      old.onsuccess = () => {
        const previous = old.result as BlobRecord | undefined
        if (previous !== undefined && previous.id !== next.id)
          store.delete(chunksOf(key, previous.id))
        store.put(next, blobKey(key))
        resolve()
      }
    }
  })
}

/** A random 53-bit integer: unique enough that concurrent uploads never share chunk keys. */
function randomId(): number {
  const [hi, lo] = crypto.getRandomValues(new Uint32Array(2))
  return (hi! & 0x1fffff) * 2 ** 32 + lo!
}
