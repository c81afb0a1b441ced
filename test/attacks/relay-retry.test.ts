/**
 * Idempotent retry: a member whose ack was lost resends; storage that fails mid-write. The relay
 * must answer a resent, already stored envelope with its original seq (not `stale`), never make
 * the retry of a failed write `stale`, and never wedge a document after a write that landed but
 * was reported failed.
 */
import { DocumentSession, Identity } from '@valv/crypto'
import type { KeyRange, StorageEntry, StorageKey } from '@valv/storage'
import { MemoryStorageAdapter } from '@valv/storage-memory'
import { cleanup, type RawClient, type Stack, startStack } from '@valv/test-utils/stack'
import type { Frame } from '@valv/wire'
import { afterEach, describe, expect, it } from 'vitest'

afterEach(cleanup)

/** Memory storage whose next log write fails: before writing (`'lost'`) or after (`'landed'`). */
class FlakyStorage extends MemoryStorageAdapter {
  failNext: 'lost' | 'landed' | undefined

  override async put(key: StorageKey, value: Uint8Array): Promise<void> {
    const mode = key.includes('log') ? this.failNext : undefined
    if (mode === undefined) return super.put(key, value)
    this.failNext = undefined
    if (mode === 'landed') await super.put(key, value)
    throw new Error('disk I/O error')
  }
}

/** Memory storage that counts the log entries it hands out (what a lookup costs). */
class CountingStorage extends MemoryStorageAdapter {
  entriesRead = 0

  override async *list(range: KeyRange): AsyncIterable<StorageEntry> {
    for await (const entry of super.list(range)) {
      if (entry.key.includes('log')) this.entriesRead++
      yield entry
    }
  }
}

async function subscribed(s: Stack, docId: string): Promise<RawClient> {
  return (await (await s.raw()).auth()).subscribe(docId)
}

let ref = 1
async function send(c: RawClient, docId: string, envelope: Uint8Array): Promise<number | string> {
  const r = ref++
  c.send({ type: 'envelope', docId, ref: r, envelope })
  const f = await c.next(
    (x: Frame) => (x.type === 'ack' || x.type === 'error') && 'ref' in x && x.ref === r,
  )
  return f.type === 'ack' ? f.seq : f.type === 'error' ? f.code : 'unexpected'
}

async function member() {
  const anna = await Identity.create({ displayName: 'Anna' })
  return DocumentSession.create(anna)
}

const text = (s: string) => new TextEncoder().encode(s)

describe('relay: idempotent retry', () => {
  it('a resent envelope that is already stored gets its original seq, stored and delivered once', async () => {
    const s = await startStack()
    const doc = await member()
    await s.connect(doc)
    const writer = await subscribed(s, doc.docId)
    const watcher = await subscribed(s, doc.docId)
    const env = await doc.seal('update', text('x'), 1000)
    const seq = await send(writer, doc.docId, env)
    expect(seq).toBeTypeOf('number')
    // The ack was lost; the client resends the same bytes.
    expect(await send(writer, doc.docId, env)).toBe(seq)
    // The same counter with other bytes is still a replay.
    expect(await send(writer, doc.docId, await doc.seal('update', text('y'), 1000))).toBe('stale')
    expect(await send(writer, doc.docId, await doc.seal('update', text('z'), 1001))).toBe(
      (seq as number) + 1,
    )
    const delivered = watcher.frames.filter((f) => f.type === 'deliver' && f.seq === seq)
    expect(delivered).toHaveLength(1)
  })

  it('the retry of a write that failed in storage is not stale, even after later ones were pipelined', async () => {
    const storage = new FlakyStorage()
    const s = await startStack({ storage })
    const doc = await member()
    await s.connect(doc)
    const c = await subscribed(s, doc.docId)
    const first = await doc.seal('update', text('first'), 2000)
    const second = await doc.seal('update', text('second'), 2001)
    storage.failNext = 'lost'
    const r1 = ref++
    const r2 = ref++
    c.send({ type: 'envelope', docId: doc.docId, ref: r1, envelope: first })
    c.send({ type: 'envelope', docId: doc.docId, ref: r2, envelope: second })
    const answer = (r: number) =>
      c.next((x) => (x.type === 'ack' || x.type === 'error') && x.ref === r)
    expect(await answer(r1)).toMatchObject({ type: 'error', code: 'storage-failed' })
    expect(await answer(r2)).toMatchObject({ type: 'error', code: 'storage-failed' })
    // Storage is back; the client resends its queue in order.
    const a = await send(c, doc.docId, first)
    const b = await send(c, doc.docId, second)
    expect(a).toBeTypeOf('number')
    expect(b).toBe((a as number) + 1)
  })

  it('a write that landed but was reported failed does not wedge the document', async () => {
    const storage = new FlakyStorage()
    const s = await startStack({ storage })
    const doc = await member()
    await s.connect(doc)
    const one = await subscribed(s, doc.docId)
    const other = await subscribed(s, doc.docId)
    const landed = await doc.seal('update', text('landed'), 3000)
    storage.failNext = 'landed'
    expect(await send(one, doc.docId, landed)).toBe('storage-failed')
    // Another session writes next: it must not collide with the entry that did land.
    const next = await send(other, doc.docId, await doc.seal('update', text('next'), 3001))
    expect(next).toBeTypeOf('number')
    // The first session's retry is acknowledged with the seq its envelope really has.
    expect(await send(one, doc.docId, landed)).toBe((next as number) - 1)
    expect(await send(one, doc.docId, await doc.seal('update', text('after'), 3002))).toBe(
      (next as number) + 1,
    )
  })

  it('a stored envelope the relay no longer remembers (past its retry window) is found in the log', async () => {
    const s = await startStack({ limits: { retryWindow: 1 } })
    const doc = await member()
    await s.connect(doc)
    const c = await subscribed(s, doc.docId)
    const old = await doc.seal('update', text('old'), 4000)
    const seq = await send(c, doc.docId, old)
    for (let i = 1; i <= 3; i++)
      await send(c, doc.docId, await doc.seal('update', text(`${i}`), 4000 + i))
    // Before the fix this was `stale`, and the client resealed an update the log already held.
    expect(await send(c, doc.docId, old)).toBe(seq)
    expect(s.relay.metrics.retries.get('acked-from-log')).toBe(1)
    // Other bytes under a stored counter are still refused.
    expect(await send(c, doc.docId, await doc.seal('update', text('other'), 4000))).toBe('stale')
    expect(s.relay.metrics.retries.get('stale')).toBe(1)
  })

  it('a forged envelope naming a member and an old counter buys no log lookup: it is refused unread', async () => {
    const storage = new CountingStorage()
    const s = await startStack({ storage, limits: { retryWindow: 1 } })
    const doc = await member()
    await s.connect(doc)
    const c = await subscribed(s, doc.docId)
    const old = await doc.seal('update', text('old'), 6000)
    await send(c, doc.docId, old)
    for (let i = 1; i <= 200; i++)
      await send(c, doc.docId, await doc.seal('update', text(`${i}`), 6000 + i))
    // Same author and counter (what the relay peeks), signature broken: not the member's.
    const forged = old.slice()
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1
    const before = storage.entriesRead
    expect(await send(c, doc.docId, forged)).toBe('bad-signature')
    // Before the fix the relay read the log's tail (here 201 entries) for every such frame.
    expect(storage.entriesRead - before).toBe(0)
    // The genuine resend is still found in the log and acknowledged.
    expect(await send(c, doc.docId, old)).toBeTypeOf('number')
    expect(storage.entriesRead - before).toBeGreaterThan(0)
  })

  it('two refused writes: a later envelope waits for both, so neither retry is passed and `stale`', async () => {
    const storage = new FlakyStorage()
    const s = await startStack({ storage })
    const doc = await member()
    await s.connect(doc)
    const c = await subscribed(s, doc.docId)
    const [one, two, three] = await Promise.all(
      ['one', 'two', 'three'].map((t, i) => doc.seal('update', text(t), 5000 + i)),
    )
    storage.failNext = 'lost'
    expect(await send(c, doc.docId, one as Uint8Array)).toBe('storage-failed')
    // Refused too: it waits for the first.
    expect(await send(c, doc.docId, two as Uint8Array)).toBe('storage-failed')
    // Storage is back. The first is resent and stored; a new envelope must wait for the second
    // (before the fix it was stored, and the second's retry was then refused as `stale`).
    const a = await send(c, doc.docId, one as Uint8Array)
    expect(a).toBeTypeOf('number')
    expect(await send(c, doc.docId, three as Uint8Array)).toBe('storage-failed')
    expect(await send(c, doc.docId, two as Uint8Array)).toBe((a as number) + 1)
    expect(await send(c, doc.docId, three as Uint8Array)).toBe((a as number) + 2)
    expect(s.relay.metrics.rejections.get('stale') ?? 0).toBe(0)
  })
})
