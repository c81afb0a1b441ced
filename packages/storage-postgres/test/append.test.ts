import { DocumentStore, StorageError } from '@valv/storage'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresStorageAdapter } from '../src/index.js'
import { dropSchema, freshSchema, testConnectionString } from './helpers.js'

// Several relay nodes append to one log: the database must pick exactly one writer per seq.
describe('compare-and-append on PostgreSQL', () => {
  let url: string
  const schema = freshSchema()
  const adapters: PostgresStorageAdapter[] = []
  const open = () => {
    const a = new PostgresStorageAdapter({ connectionString: url, schema })
    adapters.push(a)
    return a
  }

  beforeAll(async () => {
    url = await testConnectionString()
    await open().migrate()
  })
  afterAll(async () => {
    await Promise.all(adapters.map((a) => a.close()))
    await dropSchema(url, schema)
  })

  it('create writes only an absent key, once among racing pools', async () => {
    const pools = Array.from({ length: 8 }, open)
    const results = await Promise.all(
      pools.map((a, i) => a.create(['race', 'k'], new Uint8Array([i]))),
    )
    expect(results.filter(Boolean)).toHaveLength(1)
    const winner = results.indexOf(true)
    expect(await pools[0]!.get(['race', 'k'])).toEqual(new Uint8Array([winner]))
  })

  it('appendLog and appendMember: one winner per index, the others get conflict', async () => {
    const stores = Array.from({ length: 4 }, () => new DocumentStore(open()))
    expect(stores[0]!.atomicAppend).toBe(true)
    for (const op of ['appendLog', 'appendMember'] as const) {
      const outcomes = await Promise.allSettled(
        stores.map((s, i) => s[op]('doc1', 1, new Uint8Array([i, 1]))),
      )
      const won = outcomes.filter((o) => o.status === 'fulfilled')
      expect(won).toHaveLength(1)
      for (const o of outcomes) {
        if (o.status === 'rejected') {
          expect(o.reason).toBeInstanceOf(StorageError)
          expect((o.reason as StorageError).code).toBe('conflict')
        }
      }
      // A retry of the winner's own bytes succeeds (idempotent).
      const w = outcomes.findIndex((o) => o.status === 'fulfilled')
      await expect(stores[2]![op]('doc1', 1, new Uint8Array([w, 1]))).resolves.toBeUndefined()
    }
    const members = []
    for await (const m of stores[3]!.readMembers('doc1')) members.push(m.seq)
    expect(members).toEqual([1])
  })

  it('claims: one winner per number across pools; the newest is read, older ones pruned', async () => {
    const stores = Array.from({ length: 4 }, () => new DocumentStore(open()))
    const outcomes = await Promise.allSettled(
      stores.map((s, i) => s.appendClaim('claims', 1, new Uint8Array([i]))),
    )
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1)
    const rejected = outcomes.filter((o) => o.status === 'rejected')
    for (const r of rejected) expect((r.reason as StorageError).code).toBe('conflict')
    await stores[1]!.appendClaim('claims', 2, new Uint8Array([9]))
    expect(await stores[2]!.latestClaim('claims')).toEqual({ seq: 2, bytes: new Uint8Array([9]) })
    await stores[3]!.pruneClaims('claims', 2)
    expect(await stores[0]!.latestClaim('claims')).toMatchObject({ seq: 2 })
    await stores[3]!.pruneClaims('claims', 3)
    expect(await stores[0]!.latestClaim('claims')).toBeUndefined()
  })

  it('tryLock: one holder among pools (and within one); free again on release or close', async () => {
    const [a, b, c] = [open(), open(), open()]
    const key = ['docs', 'd', 'lock', 'files']
    const held = await Promise.all([a, b, c].map((x) => x.tryLock(key)))
    expect(held.filter(Boolean)).toHaveLength(1)
    const i = held.findIndex(Boolean)
    const holder = [a, b, c][i]!
    expect(await holder.tryLock(key)).toBeUndefined()
    await held[i]!()
    const again = await b.tryLock(key)
    expect(again).toBeDefined()
    expect(await a.tryLock(key)).toBeUndefined()
    // Closing the holder ends its session: PostgreSQL drops the lock, as when a node dies.
    await b.close()
    expect(await a.tryLock(key)).toBeDefined()
  })
})
