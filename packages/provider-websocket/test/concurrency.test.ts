import { MemoryBackend, MemoryStorageAdapter } from '@valv/storage-memory'
import { cleanup, startStack, until } from '@valv/test-utils/stack'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import type { WebsocketProvider } from '../src/index.js'
import { startRoom } from './harness.js'

afterEach(cleanup)

/** Small seeded PRNG (mulberry32) so a failing run can be replayed. */
function rng(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('concurrent editing under random disconnects', () => {
  it('6 clients converge and nothing acked is lost (seeded, property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (seed) => {
        const h = await startStack()
        const r = await startRoom(h.url, 5)
        const random = rng(seed)
        const clients: WebsocketProvider[] = [r.adminProvider]
        for (const e of r.editors)
          clients.push(
            await r.connect(e, {
              storage: new MemoryStorageAdapter(new MemoryBackend()),
            }),
          )
        await Promise.all(clients.map((c) => c.whenSynced()))
        const misbehaviour: unknown[] = []
        for (const c of clients) c.on('misbehaviour', (m) => misbehaviour.push(m))
        const written: string[] = []
        for (let step = 0; step < 60; step++) {
          const i = Math.floor(random() * clients.length)
          const c = clients[i] as WebsocketProvider
          const roll = random()
          if (roll < 0.12 && c.status !== 'disconnected') c.disconnect()
          else if (roll < 0.3 && c.status === 'disconnected') c.connect()
          const token = `<${i}.${step}>`
          const t = c.doc.getText('t')
          t.insert(Math.floor(random() * (t.length + 1)), token)
          const arr = c.doc.getArray<string>('tokens')
          arr.insert(Math.floor(random() * (arr.length + 1)), [token])
          written.push(token)
          if (random() < 0.3) await new Promise((res) => setTimeout(res, random() * 15))
        }
        for (const c of clients) c.connect()
        await until(
          () => clients.every((c) => c.synced && c.unsyncedChanges === 0),
          15_000,
          'all synced and acked',
        )
        // An honest relay: no client may have flagged anything.
        expect(misbehaviour).toEqual([])
        // Acked everywhere does not mean delivered everywhere yet: wait for one common text.
        const text = (c: WebsocketProvider) => c.doc.getText('t').toString()
        await until(() => clients.every((c) => text(c) === text(r.adminProvider)), 15_000)
        const ref = text(r.adminProvider)
        // Every edit reached every client, and in the same order everywhere.
        const tokens = r.adminProvider.doc.getArray<string>('tokens').toArray()
        expect([...tokens].sort()).toEqual([...written].sort())
        for (const c of clients) expect(c.doc.getArray('tokens').toArray()).toEqual(tokens)
        // What the relay stored is enough on its own: a fresh client loads the same text.
        const fresh = await r.connect(r.editors[0]!)
        await fresh.whenSynced()
        expect(fresh.doc.getText('t').toString()).toBe(ref)
        expect(fresh.doc.getArray('tokens').length).toBe(written.length)
        await cleanup()
      }),
      { numRuns: 3 },
    )
  }, 90_000)
})
