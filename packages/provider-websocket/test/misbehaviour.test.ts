import type { Misbehaviour } from '@valv/core'
import { MemoryBackend, MemoryStorageAdapter } from '@valv/storage-memory'
import { cleanup, startStack, until } from '@valv/test-utils/stack'
import type { Frame } from '@valv/wire'
import { afterEach, describe, expect, it } from 'vitest'
import { startProxy, startRoom } from './harness.js'

afterEach(cleanup)

const fast = { presence: { intervalMs: 100 } }
const deliver = (f: Frame) => (f.type === 'deliver' ? f : undefined)

/** A real relay, a room, and an editor `c` reached only through a tampering proxy. */
async function hostile(tamper: (conn: number) => (f: Frame) => Frame[]) {
  const h = await startStack()
  const r = await startRoom(h.url, 2)
  const b = await r.connect(r.editors[0]!, fast)
  await b.whenSynced()
  const proxy = await startProxy(h.url, (conn) => {
    const t = tamper(conn)
    return (f, toClient) => (toClient ? t(f) : [f])
  })
  return { h, r, b, proxy }
}

describe('a misbehaving relay is detected by the clients', () => {
  it('withholding: signed heads in presence flag the update within one interval; resync recovers it', async () => {
    let dropped = 0
    const { r, b, proxy } = await hostile(() => (f) => {
      // Swallow the first update of the document, only for this client, only once.
      if (deliver(f) && dropped === 0) {
        dropped++
        return []
      }
      return [f]
    })
    const c = await r.connect(r.editors[1]!, { ...fast, url: proxy })
    await c.whenSynced()
    const seen: Misbehaviour[] = []
    c.on('misbehaviour', (m) => seen.push(m))
    b.doc.getText('t').insert(0, 'secret-agenda')
    await until(() => b.unsyncedChanges === 0)
    // No later update reveals a gap in sequence numbers: only the heads can tell.
    await until(() => seen.some((m) => m.kind === 'withheld'), 3000, 'withheld event')
    expect(dropped).toBe(1)
    const flagged = seen.find((m) => m.kind === 'withheld')
    expect(flagged).toMatchObject({ author: b.binding.crypto.author, counter: 1 })
    await until(() => c.doc.getText('t').toString() === 'secret-agenda', 3000, 'recovered')
  })

  it('replay: an old envelope delivered again under a new sequence number is flagged', async () => {
    const { r, b, proxy } = await hostile(() => (f) => {
      const d = deliver(f)
      // Deliver each update twice, the copy under the next sequence number as if new.
      return d && d.seq === 1 ? [d, { ...d, seq: 2 }] : [f]
    })
    const c = await r.connect(r.editors[1]!, { ...fast, url: proxy })
    await c.whenSynced()
    const seen: Misbehaviour[] = []
    c.on('misbehaviour', (m) => seen.push(m))
    b.doc.getText('t').insert(0, 'once')
    await until(() => seen.some((m) => m.kind === 'replay'), 3000, 'replay event')
    expect(seen.find((m) => m.kind === 'replay')).toMatchObject({ seq: 2, counter: 1 })
    expect(c.doc.getText('t').toString()).toBe('once')
  })

  it('rollback: a relay serving a shorter log than the signed local checkpoint is flagged', async () => {
    const { r, b, proxy } = await hostile((conn) => (f) => {
      // The second connection gets a relay that "lost" the last two updates.
      if (conn === 1 && f.type === 'synced') return [{ ...f, headSeq: f.headSeq - 2 }]
      return [f]
    })
    const backend = new MemoryBackend()
    const editor = r.editors[1]!
    const c1 = await r.connect(editor, {
      ...fast,
      url: proxy,
      storage: new MemoryStorageAdapter(backend),
    })
    await c1.whenSynced()
    for (const word of ['one ', 'two ', 'three ']) {
      b.doc.getText('t').insert(0, word)
      await until(() => b.unsyncedChanges === 0)
    }
    await until(() => c1.doc.getText('t').length === 14)
    const seen = c1.binding.lastSeq
    await c1.destroy() // persists the signed checkpoint
    const c2 = await r.connect(editor, {
      ...fast,
      url: proxy,
      storage: new MemoryStorageAdapter(backend),
    })
    const events: Misbehaviour[] = []
    c2.on('misbehaviour', (m) => events.push(m))
    await c2.whenSynced()
    expect(events.map((m) => m.kind)).toContain('rollback')
    expect(events.find((m) => m.kind === 'rollback')).toMatchObject({ seq: seen - 2 })
    // The local state is kept, not rolled back.
    expect(c2.doc.getText('t').length).toBe(14)
  })

  it('an honest relay raises nothing', async () => {
    const { r, b, proxy } = await hostile(() => (f) => [f])
    const c = await r.connect(r.editors[1]!, { ...fast, url: proxy })
    await c.whenSynced()
    const seen: Misbehaviour[] = []
    c.on('misbehaviour', (m) => seen.push(m))
    b.on('misbehaviour', (m) => seen.push(m))
    for (let i = 0; i < 5; i++) b.doc.getText('t').insert(0, `${i}`)
    await until(() => c.doc.getText('t').length === 5)
    await new Promise((res) => setTimeout(res, 400)) // several presence intervals
    expect(seen).toEqual([])
  })
})
