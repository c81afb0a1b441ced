import 'fake-indexeddb/auto'
import { checkAgainstModel } from '@valv/storage/conformance'
import { promisifyRequest } from 'idb-keyval'
import { describe, expect, it, vi } from 'vitest'
import { IndexedDBStorageAdapter } from '../src/index.js'

const bytes = (...values: number[]) => new Uint8Array(values)
let counter = 0
const open = (extra: { chunkSize?: number } = {}) => {
  const dbName = `valv-test-${++counter}`
  return {
    adapter: new IndexedDBStorageAdapter({ dbName, chunkSize: extra.chunkSize ?? 1 << 14 }),
    dbName,
  }
}
async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}
async function* pattern(total: number, piece = 1000, seed = 1): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < total; offset += piece) {
    const n = Math.min(piece, total - offset)
    yield Uint8Array.from({ length: n }, (_, i) => (offset + i + seed) & 0xff)
  }
}
async function concat(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts = await all(stream)
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}
/** Every raw record key in the database (the backing store as IndexedDB sees it). */
async function rawKeys(dbName: string): Promise<IDBValidKey[]> {
  const db = await promisifyRequest(indexedDB.open(dbName))
  try {
    return await promisifyRequest(db.transaction('storage').objectStore('storage').getAllKeys())
  } finally {
    db.close()
  }
}

describe('IndexedDBStorageAdapter (fake-indexeddb)', () => {
  it('orders values and children segment by segment around "-", "." and deeper keys', async () => {
    const { adapter } = open()
    for (const [i, key] of [
      ['a'],
      ['a-b'],
      ['a.b'],
      ['a', 'x'],
      ['a', 'x', 'deep'],
      ['b'],
      ['a0'],
    ].entries()) {
      await adapter.put(key, bytes(i))
    }
    await adapter.putStream(['a', 'blob'], pattern(10))
    await adapter.putStream(['c'], pattern(10))
    expect(await all(adapter.listChildren([]))).toEqual(['a', 'a-b', 'a.b', 'a0', 'b', 'c'])
    expect(await all(adapter.listChildren(['a']))).toEqual(['blob', 'x'])
    const listed = await all(adapter.list({ prefix: [] }))
    expect(listed.map((e) => e.key.join('/'))).toEqual(['a', 'a-b', 'a.b', 'a0', 'b'])
    expect(listed[1]?.value).toEqual(bytes(1))
    expect(await adapter.get(['c'])).toBeUndefined()
    await adapter.close()
  })

  it('pages through many entries and children with start, end and limit', async () => {
    const { adapter } = open()
    for (let i = 0; i < 600; i++)
      await adapter.put(['log', String(i).padStart(4, '0')], bytes(i & 0xff))
    for (let i = 0; i < 300; i++)
      await adapter.put(['docs', `d${String(i).padStart(3, '0')}`, 'meta'], bytes(1))
    for (let i = 0; i < 300; i += 2)
      await adapter.putStream(['docs', `d${String(i).padStart(3, '0')}x`], pattern(1))
    const range = await all(adapter.list({ prefix: ['log'], start: '0100', end: '0550' }))
    expect(range.map((e) => e.key[1])).toEqual(
      Array.from({ length: 450 }, (_, i) => String(i + 100).padStart(4, '0')),
    )
    expect((await all(adapter.list({ prefix: ['log'], limit: 300 }))).length).toBe(300)
    const children = await all(adapter.listChildren(['docs']))
    expect(children.length).toBe(450)
    expect(children).toEqual([...new Set(children)].sort())
    await adapter.close()
  })

  it('stores blobs as chunks, keeps the old blob when the source fails, and survives reopening', async () => {
    const { adapter, dbName } = open({ chunkSize: 1 << 14 })
    const size = 3 * (1 << 14) + 7
    expect(await adapter.putStream(['f'], pattern(size))).toBe(size)
    async function* failing() {
      yield* pattern(50_000, 1000, 9)
      throw new Error('source broke')
    }
    await expect(adapter.putStream(['f'], failing())).rejects.toThrow('source broke')
    await adapter.close()
    const reopened = new IndexedDBStorageAdapter({ dbName })
    expect(await concat((await reopened.getStream(['f']))!)).toEqual(await concat(pattern(size)))
    expect((await rawKeys(dbName)).filter((k) => (k as string[])[0] === 'c').length).toBe(4)
    await reopened.putStream(['f'], pattern(5))
    expect((await rawKeys(dbName)).filter((k) => (k as string[])[0] === 'c').length).toBe(1)
    await reopened.close()
  })

  it("refuses to publish a blob whose chunks were deleted meanwhile ('conflict')", async () => {
    const { adapter } = open({ chunkSize: 1 << 14 })
    async function* slow() {
      yield new Uint8Array(1 << 14)
      await adapter.delete(['f'])
      yield new Uint8Array(10)
    }
    await expect(adapter.putStream(['f'], slow())).rejects.toMatchObject({
      code: 'conflict',
      retryable: true,
    })
    expect(await adapter.getStream(['f'])).toBeUndefined()
    await adapter.close()
  })

  it('lets two adapters on one database write the same log concurrently', async () => {
    const { adapter: a, dbName } = open()
    const b = new IndexedDBStorageAdapter({ dbName })
    const seqs = Array.from({ length: 200 }, (_, i) => String(i).padStart(4, '0'))
    await Promise.all(
      seqs.map((s, i) => (i % 2 === 0 ? a : b).put(['doc', 'd', 'log', s], bytes(i & 0xff))),
    )
    await b.put(['doc', 'd', 'log', '0000'], bytes(0))
    for (const reader of [a, b]) {
      expect(
        (await all(reader.list({ prefix: ['doc', 'd', 'log'] }))).map((e) => e.key[3]),
      ).toEqual(seqs)
    }
    await a.close()
    await b.close()
  })

  it('erases a prefix completely: no records remain', async () => {
    const { adapter, dbName } = open()
    await adapter.put(['doc', 'x'], bytes(1))
    await adapter.put(['doc', 'x', 'log', '1'], bytes(2))
    await adapter.putStream(['doc', 'x', 'files', 'f'], pattern(40_000))
    await adapter.put(['doc', 'x-y'], bytes(3))
    await adapter.deletePrefix(['doc', 'x'])
    expect(await rawKeys(dbName)).toEqual([['v', 'doc', 'x-y']])
    await adapter.deletePrefix([])
    expect(await rawKeys(dbName)).toEqual([])
    await adapter.close()
  })

  it("throws 'invalid-key' before any I/O, 'closed' after close() and 'missing-backend' without IndexedDB", async () => {
    const { adapter } = open()
    await expect(adapter.put(['a/b'], bytes(1))).rejects.toMatchObject({ code: 'invalid-key' })
    await adapter.close()
    await expect(adapter.get(['k'])).rejects.toMatchObject({ code: 'closed' })
    // As in a browser context without IndexedDB (some private modes, sandboxed iframes).
    vi.stubGlobal('indexedDB', undefined)
    try {
      const missing = new IndexedDBStorageAdapter()
      await expect(missing.get(['k'])).rejects.toMatchObject({ code: 'missing-backend' })
      await expect(missing.put(['k'], bytes(1))).rejects.toMatchObject({ code: 'missing-backend' })
    } finally {
      vi.unstubAllGlobals()
    }
  })
})

describe('IndexedDBStorageAdapter against a model (property)', () => {
  it('agrees with an in-memory model on random histories', async () => {
    const adapter = new IndexedDBStorageAdapter({ dbName: 'valv-model' })
    await checkAgainstModel(adapter, 100)
    await adapter.close()
  }, 60_000)
})
