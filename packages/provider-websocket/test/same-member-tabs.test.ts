// Two browser tabs of one profile (agency portal): the same member, each tab with its own
// DocumentSession + binding + relay connection, one shared local store, BroadcastChannel between
// them. Both seal under the same author index, so their per-author counters can collide.
import type { Misbehaviour } from '@valv/core'
import { BroadcastProvider } from '@valv/provider-broadcast'
import { MemoryBackend, MemoryStorageAdapter } from '@valv/storage-memory'
import { cleanup, onCleanup, startStack, until } from '@valv/test-utils/stack'
import { afterEach, describe, expect, it } from 'vitest'
import type { WebsocketProvider } from '../src/index.js'
import { startRoom } from './harness.js'

afterEach(cleanup)

/** Each token must be in `text` exactly once. */
function once(text: string, tokens: readonly string[]): Record<string, number> {
  const wrong: Record<string, number> = {}
  for (const t of tokens) {
    const n = text.split(`<${t}>`).length - 1
    if (n !== 1) wrong[t] = n
  }
  return wrong
}

async function twoTabs(channel: string | undefined) {
  const h = await startStack()
  const r = await startRoom(h.url)
  const backend = new MemoryBackend() // one browser profile: one local store for both tabs
  const me = r.editors[0]!
  const seen: Misbehaviour[] = []
  const tab = async () => {
    const p = await r.connect(me, { storage: new MemoryStorageAdapter(backend) })
    p.on('misbehaviour', (m) => seen.push(m))
    await p.whenSynced()
    if (channel !== undefined) {
      const b = new BroadcastProvider({ binding: p.binding, channel })
      onCleanup(() => b.destroy())
    }
    return p
  }
  const third = r.adminProvider
  third.on('misbehaviour', (m) => seen.push(m))
  return { h, r, me, backend, seen, tab, third, a: await tab(), b: await tab() }
}

const stale = (h: Awaited<ReturnType<typeof startStack>>) =>
  h.relay.metrics.retries.get('stale') ?? 0

/** Both tabs type `n` tokens each, interleaved without waiting, so their counters race. */
async function typeBoth(a: WebsocketProvider, b: WebsocketProvider, tag: string, n: number) {
  const tokens: string[] = []
  for (let i = 0; i < n; i++) {
    for (const [p, who] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      const t = `${tag}${who}${i}`
      tokens.push(t)
      const text = p.doc.getText('t')
      text.insert(text.length, `<${t}>`)
    }
    await new Promise((r) => setTimeout(r, 7)) // one batch window: one envelope per tab per round
  }
  return tokens
}

describe('two tabs of the same member (shared local store)', () => {
  it('online, typing at once: every edit reaches a third member exactly once', async () => {
    const { h, a, b, third, seen } = await twoTabs(`tabs-${Math.random()}`)
    const tokens = await typeBoth(a, b, 'on', 20)
    await until(() => a.unsyncedChanges === 0 && b.unsyncedChanges === 0, 20_000, 'acks')
    await until(() => Object.keys(once(third.doc.getText('t').toString(), tokens)).length === 0)
    expect(once(third.doc.getText('t').toString(), tokens)).toEqual({})
    expect(seen).toEqual([])
    // Collisions are resealed, never looped: a resealed envelope may be refused again only
    // while the other tab is ahead, so the refusals stay a small multiple of the envelopes.
    expect(stale(h)).toBeLessThanOrEqual(4 * tokens.length)
  })

  it('offline in both tabs (no BroadcastChannel), then online: nothing lost or doubled', async () => {
    const { h, a, b, third, seen } = await twoTabs(undefined)
    a.disconnect()
    b.disconnect()
    // Without a channel both tabs count from the same checkpoint: every counter collides.
    const tokens = await typeBoth(a, b, 'off', 5)
    await a.binding.flush()
    await b.binding.flush()
    expect(a.binding.pending().map((e) => e.counter)).toEqual(
      b.binding.pending().map((e) => e.counter),
    )
    a.connect()
    b.connect()
    await until(() => a.unsyncedChanges === 0 && b.unsyncedChanges === 0, 20_000, 'acks')
    await until(() => Object.keys(once(third.doc.getText('t').toString(), tokens)).length === 0)
    expect(seen).toEqual([])
    expect(stale(h)).toBeLessThanOrEqual(4 * tokens.length)
  })

  it('offline, colliding counters, both tabs closed, one reopened: every edit still goes out', async () => {
    const { r, me, backend, a, b, third, seen } = await twoTabs(undefined)
    a.disconnect()
    b.disconnect()
    const tokens = await typeBoth(a, b, 'closed', 3)
    await a.binding.flush()
    await b.binding.flush()
    await a.destroy()
    await b.destroy()
    // Both tabs sealed counters 1-3: the shared store keeps all six entries, one per writer.
    let queued = 0
    const store = new MemoryStorageAdapter(backend)
    for await (const _ of store.list({ prefix: ['valv', r.docId, 'q'] })) queued++
    expect(queued).toBe(6)
    const reopened = await r.connect(me, { storage: new MemoryStorageAdapter(backend) })
    reopened.on('misbehaviour', (m) => seen.push(m))
    await reopened.whenSynced()
    await until(() => reopened.unsyncedChanges === 0, 20_000, 'acks')
    await until(() => third.binding.lastSeq >= reopened.binding.lastSeq, 20_000, 'deliveries')
    expect(once(third.doc.getText('t').toString(), tokens)).toEqual({})
    expect(third.doc.getText('t').toString()).toBe(reopened.doc.getText('t').toString())
    expect(seen).toEqual([])
  })
})
