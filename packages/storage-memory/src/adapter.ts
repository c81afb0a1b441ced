import {
  assertValidKey,
  type KeyRange,
  type StorageAdapter,
  type StorageEntry,
  StorageError,
  type StorageKey,
} from '@valv/storage'
import { lowerBound, MemoryBackend } from './tree.js'

/**
 * A `StorageAdapter` in process memory, for tests and ephemeral relays. "Durable" here
 * means: visible to every adapter on the same {@link MemoryBackend} once the promise resolves;
 * nothing survives the process. Values and blob chunks are copied in and out, so callers may
 * reuse their buffers.
 *
 * @example
 * ```ts
 * import { DocumentStore } from '@valv/storage'
 * import { MemoryStorageAdapter } from '@valv/storage-memory'
 * const store = new DocumentStore(new MemoryStorageAdapter())
 * ```
 */
export class MemoryStorageAdapter implements StorageAdapter {
  readonly #backend: MemoryBackend
  readonly #locks = new Set<string>()
  #closed = false

  /** Use `backend` to share data with other adapters; a fresh one by default. */
  constructor(backend: MemoryBackend = new MemoryBackend()) {
    this.#backend = backend
  }

  /** The backend this adapter reads and writes. */
  get backend(): MemoryBackend {
    return this.#backend
  }

  async get(key: StorageKey): Promise<Uint8Array | undefined> {
    this.#check(key)
    return this.#backend.node(key, false)?.value?.slice()
  }

  async put(key: StorageKey, value: Uint8Array): Promise<void> {
    this.#check(key)
    const copy = value.slice()
    this.#backend.node(key, true)!.value = copy
  }

  async create(key: StorageKey, value: Uint8Array): Promise<boolean> {
    this.#check(key)
    // Checked and written in one synchronous step, so no other call interleaves.
    if (this.#backend.node(key, false)?.value !== undefined) return false
    await this.put(key, value)
    return true
  }

  async tryLock(key: StorageKey): Promise<(() => Promise<void>) | undefined> {
    this.#check(key)
    const name = key.join('/')
    if (this.#backend.locks.has(name)) return undefined
    this.#backend.locks.add(name)
    this.#locks.add(name)
    let held = true
    return async () => {
      if (!held) return
      held = false
      this.#locks.delete(name)
      this.#backend.locks.delete(name)
    }
  }

  async delete(key: StorageKey): Promise<void> {
    this.#check(key)
    const node = this.#backend.node(key, false)
    if (!node) return
    delete node.value
    delete node.blob
    this.#backend.prune(key)
  }

  async *list(range: KeyRange): AsyncIterable<StorageEntry> {
    this.#check(range.prefix, true)
    const node = this.#backend.node(range.prefix, false)
    if (!node) return
    const names = this.#backend.sortedChildren(node)
    const from = range.start === undefined ? 0 : lowerBound(names, range.start)
    const to = range.end === undefined ? names.length : lowerBound(names, range.end)
    const limit = range.limit ?? Number.POSITIVE_INFINITY
    // Take the names now: the cached array is replaced, never mutated, when children change.
    let emitted = 0
    for (let i = from; i < to && emitted < limit; i++) {
      const name = names[i]!
      const value = node.children.get(name)?.value
      if (!value) continue
      emitted++
      yield { key: [...range.prefix, name], value: value.slice() }
      this.#check(range.prefix, true)
    }
  }

  async *listChildren(prefix: StorageKey): AsyncIterable<string> {
    this.#check(prefix, true)
    const node = this.#backend.node(prefix, false)
    if (!node) return
    yield* [...this.#backend.sortedChildren(node)]
  }

  async deletePrefix(prefix: StorageKey): Promise<void> {
    this.#check(prefix, true)
    if (prefix.length === 0) {
      this.#backend.root.children.clear()
      delete this.#backend.root.value
      delete this.#backend.root.sorted
      return
    }
    const parent = this.#backend.node(prefix.slice(0, -1), false)
    if (!parent?.children.delete(prefix.at(-1)!)) return
    delete parent.sorted
    this.#backend.prune(prefix.slice(0, -1))
  }

  async putStream(key: StorageKey, source: AsyncIterable<Uint8Array>): Promise<number> {
    this.#check(key)
    const parts: Uint8Array[] = []
    let total = 0
    for await (const part of source) {
      parts.push(part.slice())
      total += part.byteLength
    }
    // Committed only once the source ended: a failing source leaves the old blob.
    this.#check(key)
    this.#backend.node(key, true)!.blob = parts
    return total
  }

  async getStream(key: StorageKey): Promise<AsyncIterable<Uint8Array> | undefined> {
    this.#check(key)
    const parts = this.#backend.node(key, false)?.blob
    if (!parts) return undefined
    return (async function* () {
      for (const part of parts) yield part.slice()
    })()
  }

  async close(): Promise<void> {
    this.#closed = true
    // As a process dying ends its locks.
    for (const name of this.#locks) this.#backend.locks.delete(name)
    this.#locks.clear()
  }

  #check(key: StorageKey, allowEmpty = false): void {
    if (this.#closed) throw new StorageError('closed', 'the storage adapter is closed')
    assertValidKey(key, allowEmpty)
  }
}
