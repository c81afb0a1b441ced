import { MemoryStorageAdapter } from '@valv/storage-memory'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DocumentStore,
  type KeyRange,
  type StorageAdapter,
  StorageError,
  type StorageKey,
} from '../src/index.js'

const bytes = (...v: number[]) => new Uint8Array(v)
async function drain<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}
async function code(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run()
  } catch (error) {
    expect(error).toBeInstanceOf(StorageError)
    return (error as StorageError).code
  }
  return undefined
}
/** Every value key in the adapter, as "a/b/c" strings. */
async function allKeys(adapter: StorageAdapter, prefix: string[] = []): Promise<string[]> {
  const out: string[] = []
  for await (const e of adapter.list({ prefix })) out.push(e.key.join('/'))
  for await (const child of adapter.listChildren(prefix)) {
    out.push(...(await allKeys(adapter, [...prefix, child])))
  }
  return [...new Set(out)].sort()
}

/** A real adapter whose writes start failing after `budget` operations: a simulated crash. */
class CrashingAdapter implements StorageAdapter {
  constructor(
    readonly inner: StorageAdapter,
    public budget: number,
  ) {}
  #spend() {
    if (this.budget-- <= 0) throw new Error('crash')
  }
  get(key: StorageKey) {
    return this.inner.get(key)
  }
  async put(key: StorageKey, value: Uint8Array) {
    this.#spend()
    return this.inner.put(key, value)
  }
  async delete(key: StorageKey) {
    this.#spend()
    return this.inner.delete(key)
  }
  list(range: KeyRange) {
    return this.inner.list(range)
  }
  listChildren(prefix: StorageKey) {
    return this.inner.listChildren(prefix)
  }
  async deletePrefix(prefix: StorageKey) {
    this.#spend()
    return this.inner.deletePrefix(prefix)
  }
  async putStream(key: StorageKey, source: AsyncIterable<Uint8Array>) {
    this.#spend()
    return this.inner.putStream(key, source)
  }
  getStream(key: StorageKey) {
    return this.inner.getStream(key)
  }
  close() {
    return this.inner.close()
  }
}

describe('DocumentStore', () => {
  it('reads the log back in numeric order with from (inclusive), to (exclusive) and limit', async () => {
    const store = new DocumentStore(new MemoryStorageAdapter())
    const seqs = [10, 9, 1, 100, 2, 11, 1000, 99]
    for (const s of seqs) await store.appendLog('doc', s, bytes(s & 0xff))
    const read = async (range?: Parameters<DocumentStore['readLog']>[1]) =>
      (await drain(store.readLog('doc', range))).map((e) => e.seq)
    expect(await read()).toEqual([1, 2, 9, 10, 11, 99, 100, 1000])
    expect(await read({ from: 9, to: 100 })).toEqual([9, 10, 11, 99])
    expect(await read({ from: 3, limit: 2 })).toEqual([9, 10])
    expect(await read({ to: 2 })).toEqual([1])
    expect((await drain(store.readLog('doc', { from: 1000 })))[0]?.bytes).toEqual(
      bytes(1000 & 0xff),
    )
    expect(await read({ from: 2 ** 53 - 1 })).toEqual([])
    expect(await store.headSeq('doc')).toBe(1000)
    expect(await store.headSeq('none')).toBeUndefined()
    expect(await drain(store.readLog('none'))).toEqual([])
  })

  it('treats an identical retry as success and different bytes at a seq as a conflict', async () => {
    const adapter = new MemoryStorageAdapter()
    const store = new DocumentStore(adapter)
    await store.appendLog('doc', 1, bytes(1, 2))
    await store.appendLog('doc', 1, bytes(1, 2))
    expect(await code(() => store.appendLog('doc', 1, bytes(1, 3)))).toBe('conflict')
    expect(await code(() => store.appendLog('doc', 1, bytes(1)))).toBe('conflict')
    expect(await drain(store.readLog('doc'))).toEqual([{ seq: 1, bytes: bytes(1, 2) }])
  })

  it('refuses bad ids, sequence numbers and values without writing anything', async () => {
    const adapter = new MemoryStorageAdapter()
    const store = new DocumentStore(adapter)
    for (const id of ['', '..', 'a/b', 'x'.repeat(201), 'ä']) {
      expect(await code(() => store.appendLog(id, 1, bytes(1)))).toBe('invalid-key')
      expect(await code(() => store.deleteDocument(id))).toBe('invalid-key')
      expect(await code(() => store.putBlob('doc', id, (async function* () {})()))).toBe(
        'invalid-key',
      )
    }
    for (const seq of [-1, 1.5, Number.NaN, 2 ** 53, Number.POSITIVE_INFINITY]) {
      expect(await code(() => store.appendLog('doc', seq, bytes(1)))).toBe('invalid-value')
      expect(await code(() => store.putSnapshot('doc', seq, bytes(1)))).toBe('invalid-value')
      expect(await code(() => drain(store.readLog('doc', { from: seq })))).toBe('invalid-value')
    }
    expect(await code(() => store.appendLog('doc', 1, 'text' as never))).toBe('invalid-value')
    expect(await code(() => store.putSnapshot('doc', 1, [1] as never))).toBe('invalid-value')
    expect(await allKeys(adapter)).toEqual([])
  })

  it('keeps the newest snapshot and deletes what it covers', async () => {
    const adapter = new MemoryStorageAdapter()
    const store = new DocumentStore(adapter)
    for (let s = 1; s <= 10; s++) await store.appendLog('doc', s, bytes(s))
    await store.putSnapshot('doc', 4, bytes(40))
    expect(await store.getSnapshot('doc')).toEqual({ seq: 4, bytes: bytes(40) })
    expect((await drain(store.readLog('doc'))).map((e) => e.seq)).toEqual([5, 6, 7, 8, 9, 10])
    await store.putSnapshot('doc', 8, bytes(80))
    await store.putSnapshot('doc', 8, bytes(81)) // same state, re-encrypted: replaces
    expect(await store.getSnapshot('doc')).toEqual({ seq: 8, bytes: bytes(81) })
    expect(await code(() => store.putSnapshot('doc', 5, bytes(50)))).toBe('conflict')
    expect(await allKeys(adapter)).toEqual([
      'docs/doc/log/0000000000000009',
      'docs/doc/log/0000000000000010',
      'docs/doc/snap/0000000000000008',
    ])
    expect(await store.headSeq('doc')).toBe(10)
    await store.putSnapshot('doc', 10, bytes(100))
    expect(await drain(store.readLog('doc'))).toEqual([])
    expect(await store.headSeq('doc')).toBe(10)
    expect(await store.getSnapshot('other')).toBeUndefined()
  })

  it('compacts logs longer than one batch', async () => {
    const store = new DocumentStore(new MemoryStorageAdapter())
    for (let s = 1; s <= 1300; s++) await store.appendLog('doc', s, bytes(s & 0xff))
    await store.putSnapshot('doc', 1200, bytes(1))
    expect((await drain(store.readLog('doc'))).map((e) => e.seq)).toEqual(
      Array.from({ length: 100 }, (_, i) => 1201 + i),
    )
  })

  it('never loses state when a crash interrupts any step (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constant('append' as const), fc.constant('snapshot' as const)), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.nat(60),
        async (ops, budget) => {
          const memory = new MemoryStorageAdapter()
          const crashing = new CrashingAdapter(memory, budget)
          const store = new DocumentStore(crashing)
          // The model: the state is the list of acknowledged appends (snapshot = their count).
          let acked = 0
          for (const op of ops) {
            try {
              if (op === 'append') {
                await store.appendLog('doc', acked + 1, bytes(acked + 1))
                acked++
              } else if (acked > 0) {
                await store.putSnapshot(
                  'doc',
                  acked,
                  bytes(...Array.from({ length: acked }, (_, i) => i + 1)),
                )
              }
            } catch (error) {
              expect((error as Error).message).toBe('crash')
              break
            }
          }
          // After the "restart": snapshot + remaining log reproduce every acknowledged append.
          const reader = new DocumentStore(memory)
          const snap = await reader.getSnapshot('doc')
          const state = snap ? [...snap.bytes] : []
          for await (const e of reader.readLog('doc', { from: (snap?.seq ?? 0) + 1 })) {
            expect(e.seq).toBe(state.length + 1)
            state.push(e.bytes[0]!)
          }
          expect(state.length).toBeGreaterThanOrEqual(acked)
          expect(state.slice(0, acked)).toEqual(Array.from({ length: acked }, (_, i) => i + 1))
          // Finishing the interrupted compaction leaves exactly the newest snapshot + later log.
          await reader.compact('doc')
          const keys = await allKeys(memory)
          expect(keys.filter((k) => k.includes('/snap/')).length).toBe(snap ? 1 : 0)
          for (const k of keys.filter((k) => k.includes('/log/'))) {
            expect(Number(k.split('/').at(-1))).toBeGreaterThan(snap?.seq ?? 0)
          }
        },
      ),
      { numRuns: 200 },
    )
  })

  it('stores, lists and deletes blobs as streams', async () => {
    const store = new DocumentStore(new MemoryStorageAdapter())
    const source = async function* () {
      yield bytes(1, 2)
      yield bytes(3)
    }
    expect(await store.putBlob('doc', 'file-1.pdf', source())).toBe(3)
    expect(await store.putBlob('doc', 'file-0', source())).toBe(3)
    expect(await drain(store.listBlobs('doc'))).toEqual(['file-0', 'file-1.pdf'])
    const stream = await store.getBlob('doc', 'file-1.pdf')
    expect((await drain(stream!)).flatMap((p) => [...p])).toEqual([1, 2, 3])
    await store.deleteBlob('doc', 'file-0')
    expect(await store.getBlob('doc', 'file-0')).toBeUndefined()
    expect(await drain(store.listBlobs('doc'))).toEqual(['file-1.pdf'])
  })

  it('deletes a whole document and lists the rest', async () => {
    const adapter = new MemoryStorageAdapter()
    const store = new DocumentStore(adapter)
    for (const id of ['b', 'a', 'c']) {
      await store.appendLog(id, 1, bytes(1))
      await store.putSnapshot(id, 1, bytes(2))
      await store.appendLog(id, 2, bytes(3))
      await store.putBlob(
        id,
        'f',
        (async function* () {
          yield bytes(4)
        })(),
      )
    }
    expect(await drain(store.listDocuments())).toEqual(['a', 'b', 'c'])
    await store.deleteDocument('b')
    await store.deleteDocument('b')
    expect(await drain(store.listDocuments())).toEqual(['a', 'c'])
    expect(await store.getSnapshot('b')).toBeUndefined()
    expect(await drain(store.readLog('b'))).toEqual([])
    expect((await allKeys(adapter)).some((k) => k.startsWith('docs/b/'))).toBe(false)
  })
})

describe('DocumentStore.hasMember', () => {
  it('answers for exactly the membership entries appended, per document', async () => {
    const store = new DocumentStore(new MemoryStorageAdapter())
    expect(await store.hasMember('d', 0)).toBe(false)
    await store.appendMember('d', 0, bytes(1))
    await store.appendMember('d', 1, bytes(2))
    expect(await store.hasMember('d', 0)).toBe(true)
    expect(await store.hasMember('d', 1)).toBe(true)
    expect(await store.hasMember('d', 2)).toBe(false)
    expect(await store.hasMember('e', 0)).toBe(false)
    // A log entry at the same position is not a membership entry.
    await store.appendLog('e', 1, bytes(3))
    expect(await store.hasMember('e', 1)).toBe(false)
  })
})
