import { EncryptedDoc, type Misbehaviour, type QueuedEnvelope } from '@valv/core'
import { type DocumentSession, Role } from '@valv/crypto'
import { MemoryBackend, MemoryStorageAdapter } from '@valv/storage-memory'
import { sharedDocument } from '@valv/test-utils'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

const bindings: EncryptedDoc[] = []
afterEach(async () => {
  await Promise.all(bindings.splice(0).map((b) => b.destroy().catch(() => undefined)))
})

/** A document of real sessions: the admin and `n - 1` editors (`ids`), and a viewer. */
async function setup(n = 2, batch = { windowMs: 5 }) {
  const shared = await sharedDocument([...Array(n - 1).fill(Role.Editor), Role.Viewer])
  const { docId } = shared
  const ids: DocumentSession[] = [shared.admin, ...shared.members.slice(0, n - 1)]
  const viewer = shared.members[n - 1] as DocumentSession
  const make = async (crypto = shared.admin, storage?: MemoryStorageAdapter) => {
    const b = new EncryptedDoc({
      doc: new Y.Doc(),
      docId,
      crypto,
      batch,
      ...(storage ? { storage } : {}),
    })
    bindings.push(b)
    await b.ready
    return b
  }
  return { docId, ids, viewer, make }
}

function collect(b: EncryptedDoc): QueuedEnvelope[] {
  const out: QueuedEnvelope[] = []
  b.on('envelope', (e) => out.push(e))
  return out
}

const transport = {}

describe('EncryptedDoc', () => {
  it('batches a window of keystrokes into one sealed envelope that another member opens', async () => {
    const { ids, make } = await setup()
    const a = await make(ids[0])
    const b = await make(ids[1])
    const sent = collect(a)
    const text = a.doc.getText('t')
    for (const ch of 'hello') text.insert(text.length, ch)
    expect(a.unsynced).toBe(1)
    await a.flush()
    expect(sent).toHaveLength(1)
    expect(sent[0]?.counter).toBe(1)
    expect(await b.receiveUpdate(sent[0]!.sealed, 1, transport)).toBe('applied')
    expect(b.doc.getText('t').toString()).toBe('hello')
    expect(await b.receiveUpdate(sent[0]!.sealed, 1, transport)).toBe('duplicate')
  })

  it('counts a batch as unsynced while it is being sealed, until the relay acks it', async () => {
    const { docId, ids } = await setup()
    const crypto = ids[0]!
    const seal = crypto.seal.bind(crypto)
    let release: () => void = () => undefined
    const gate = new Promise<void>((r) => {
      release = r
    })
    // Sealing that takes a while (a slow device): the window has closed, nothing is queued yet.
    crypto.seal = async (...args) => {
      await gate
      return seal(...args)
    }
    const a = new EncryptedDoc({ doc: new Y.Doc(), docId, crypto, batch: { windowMs: 1 } })
    bindings.push(a)
    const counts: number[] = []
    a.on('unsynced', (n) => counts.push(n))
    a.doc.getText('t').insert(0, 'x')
    await new Promise((r) => setTimeout(r, 20))
    expect(a.pending()).toHaveLength(0)
    expect(a.unsynced).toBe(1)
    release()
    await a.flush()
    expect(a.unsynced).toBe(1)
    a.acknowledge(a.pending()[0]!.counter, 1)
    expect(a.unsynced).toBe(0)
    expect(counts.at(-1)).toBe(0)
    expect(counts.slice(0, -1)).not.toContain(0)
  })

  it('encodes a burst above maxMerge as one document diff that still converges', async () => {
    const { ids, make } = await setup(2, { windowMs: 5, maxMerge: 8 } as never)
    const a = await make(ids[0])
    const b = await make(ids[1])
    b.doc.getText('t').insert(0, 'remote ')
    const fromB = collect(b)
    await b.flush()
    await a.receiveUpdate(fromB[0]!.sealed, 1, transport)
    const sent = collect(a)
    const text = a.doc.getText('t')
    for (let i = 0; i < 50; i++) text.insert(text.length, String(i % 10))
    text.delete(0, 3)
    await a.flush()
    expect(sent).toHaveLength(1)
    expect(await b.receiveUpdate(sent[0]!.sealed, 2, transport)).toBe('applied')
    expect(b.doc.getText('t').toString()).toBe(text.toString())
  })

  it('merges only envelopes never handed out: one sent may be stored and goes again as it is', async () => {
    const { ids, make } = await setup()
    const a = await make(ids[0])
    const text = a.doc.getText('t')
    for (const ch of 'abc') {
      text.insert(text.length, ch)
      await a.flush()
    }
    expect(a.pending().map((e) => e.counter)).toEqual([1, 2, 3])
    expect(a.markSent(1)).toBe(1)
    expect(a.markSent(1)).toBe(2)
    const merged = await a.coalesce([1, 2, 3])
    expect(merged?.counter).toBe(4)
    expect(a.pending().map((e) => e.counter)).toEqual([1, 4])
    // Nothing left to merge: one never-sent envelope is not merged with a sent one.
    expect(await a.coalesce([1, 4])).toBeUndefined()
  })

  it('a delivery of its own queued envelope acknowledges it (the ack was lost)', async () => {
    const { ids, make } = await setup()
    const a = await make(ids[0])
    a.doc.getText('t').insert(0, 'mine')
    const sent = collect(a)
    await a.flush()
    expect(a.unsynced).toBe(1)
    expect(await a.receiveUpdate(sent[0]!.sealed, 1, transport)).toBe('applied')
    expect(a.pending()).toEqual([])
    expect(a.unsynced).toBe(0)
    expect(a.lastSeq).toBe(1)
  })

  it('never echoes updates applied from a transport', async () => {
    const { ids, make } = await setup()
    const a = await make(ids[0])
    const b = await make(ids[1])
    a.doc.getText('t').insert(0, 'x')
    const sent = collect(a)
    await a.flush()
    const echoed = collect(b)
    await b.receiveUpdate(sent[0]!.sealed, 1, transport)
    await b.flush()
    expect(echoed).toHaveLength(0)
    expect(b.unsynced).toBe(0)
  })

  it('verifies before applying: viewer writes and tampered bytes never touch the doc', async () => {
    const { ids, viewer, make } = await setup()
    const b = await make(ids[1])
    const events: Misbehaviour[] = []
    b.on('misbehaviour', (m) => events.push(m))
    const viewerCrypto = viewer
    const forged = new Y.Doc()
    forged.getText('t').insert(0, 'viewer text')
    const update = Y.encodeStateAsUpdate(forged)
    expect(await b.receiveUpdate(await viewerCrypto.seal('update', update, 1), 1, transport)).toBe(
      'rejected',
    )
    const a = await make(ids[0])
    a.doc.getText('t').insert(0, 'ok')
    const sent = collect(a)
    await a.flush()
    const tampered = sent[0]!.sealed.slice()
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1
    expect(await b.receiveUpdate(tampered, 2, transport)).toBe('rejected')
    expect(b.doc.getText('t').toString()).toBe('')
    expect(events.map((e) => e.kind)).toEqual(['invalid', 'invalid'])
    expect(viewerCrypto.canWrite()).toBe(false)
  })

  it('flags a replayed author counter at a new sequence number', async () => {
    const { ids, make } = await setup()
    const a = await make(ids[0])
    const b = await make(ids[1])
    const events: Misbehaviour[] = []
    b.on('misbehaviour', (m) => events.push(m))
    const sent = collect(a)
    a.doc.getText('t').insert(0, 'once')
    await a.flush()
    await b.receiveUpdate(sent[0]!.sealed, 1, transport)
    expect(await b.receiveUpdate(sent[0]!.sealed, 2, transport)).toBe('rejected')
    expect(events).toMatchObject([{ kind: 'replay', counter: 1, seq: 2 }])
  })

  it('keeps the offline queue across destroy and re-create from local storage', async () => {
    const { ids, make } = await setup()
    const backend = new MemoryBackend()
    const a1 = await make(ids[0], new MemoryStorageAdapter(backend))
    a1.doc.getText('t').insert(0, 'offline edit')
    await a1.flush()
    a1.acknowledge(99, 1) // unknown counter: ignored
    expect(a1.pending()).toHaveLength(1)
    await a1.destroy()
    const a2 = await make(ids[0], new MemoryStorageAdapter(backend))
    expect(a2.doc.getText('t').toString()).toBe('offline edit')
    expect(a2.pending().map((e) => e.counter)).toEqual([1])
    a2.doc.getText('t').insert(0, '+')
    const sent = collect(a2)
    await a2.flush()
    expect(sent[0]?.counter).toBe(2)
    a2.acknowledge(1, 1)
    a2.acknowledge(2, 2)
    expect(a2.unsynced).toBe(0)
    await a2.destroy()
    const a3 = await make(ids[0], new MemoryStorageAdapter(backend))
    expect(a3.pending()).toHaveLength(0)
    expect(a3.lastSeq).toBe(2)
    expect(a3.doc.getText('t').toString()).toBe('+offline edit')
  })

  it('two bindings of one member on one store keep both queued edits of one counter', async () => {
    const { docId, ids, make } = await setup()
    const backend = new MemoryBackend()
    const storage = () => new MemoryStorageAdapter(backend)
    // Two tabs of one profile, offline: both seal counter 1.
    const tab1 = await make(ids[0], storage())
    const tab2 = await make(ids[0], storage())
    tab1.doc.getText('t').insert(0, 'one ')
    tab2.doc.getText('t').insert(0, 'two ')
    await Promise.all([tab1.flush(), tab2.flush()])
    expect([tab1.pending()[0]?.counter, tab2.pending()[0]?.counter]).toEqual([1, 1])
    await tab1.destroy()
    await tab2.destroy()
    const reopened = await make(ids[0], storage())
    expect(reopened.pending().map((e) => e.counter)).toEqual([1, 2])
    const text = reopened.doc.getText('t').toString()
    expect(text.includes('one ') && text.includes('two ')).toBe(true)
    const keys = async () => {
      const out: string[] = []
      for await (const { key } of storage().list({ prefix: ['valv', docId, 'q'] }))
        out.push(key[3] as string)
      return out
    }
    expect(await keys()).toHaveLength(2)
    reopened.acknowledge(1, 1)
    reopened.acknowledge(2, 2)
    await reopened.flush()
    expect(await keys()).toEqual([])
  })

  it("two bindings of one member on one store never overwrite each other's state cache", async () => {
    const { ids, make } = await setup()
    const backend = new MemoryBackend()
    const tab1 = await make(ids[0], new MemoryStorageAdapter(backend))
    const tab2 = await make(ids[0], new MemoryStorageAdapter(backend))
    let seq = 0
    // Each tab saves (compacting first, appending after) edits the other never sees.
    for (const [tab, word] of [
      [tab1, 'x'],
      [tab2, 'y'],
      [tab1, 'z'],
      [tab2, 'w'],
      [tab1, 'v'],
    ] as const) {
      tab.doc.getText('t').insert(0, word)
      await tab.flush()
      for (const e of tab.pending()) tab.acknowledge(e.counter, ++seq)
      await tab.save()
    }
    await tab1.destroy()
    await tab2.destroy()
    const reopened = await make(ids[0], new MemoryStorageAdapter(backend))
    const text = reopened.doc.getText('t').toString()
    expect([...text].sort().join('')).toBe('vwxyz')
    // Its first save compacts everything it applied; a reload still holds all of it.
    await reopened.save()
    await reopened.destroy()
    const again = await make(ids[0], new MemoryStorageAdapter(backend))
    expect(again.doc.getText('t').toString()).toBe(text)
  })

  it('loads and then drops a queue entry and a state of the older layout (untagged keys)', async () => {
    const { docId, ids, make } = await setup()
    const backend = new MemoryBackend()
    const a1 = await make(ids[0], new MemoryStorageAdapter(backend))
    a1.doc.getText('t').insert(0, 'acked ')
    await a1.flush()
    a1.acknowledge(1, 1)
    await a1.save()
    a1.doc.getText('t').insert(6, 'legacy')
    await a1.flush()
    const [e] = a1.pending()
    await a1.destroy()
    const storage = new MemoryStorageAdapter(backend)
    // Rewrite what a1 stored into the older layout: `state` and `q/<counter>`.
    for await (const { key, value } of storage.list({ prefix: ['valv', docId, 'state'] })) {
      await storage.delete(key)
      await storage.put(['valv', docId, 'state'], value)
    }
    for await (const { key } of storage.list({ prefix: ['valv', docId, 'q'] })) {
      await storage.delete(key)
    }
    await storage.put(['valv', docId, 'q', '000000000002'], (e as QueuedEnvelope).sealed)
    const a2 = await make(ids[0], new MemoryStorageAdapter(backend))
    expect(a2.doc.getText('t').toString()).toBe('acked legacy')
    expect(a2.pending().map((q) => q.counter)).toEqual([2])
    a2.acknowledge(2, 2)
    await a2.save()
    expect(await storage.get(['valv', docId, 'q', '000000000002'])).toBeUndefined()
    expect(await storage.get(['valv', docId, 'state'])).toBeUndefined()
    await a2.destroy()
    const a3 = await make(ids[0], new MemoryStorageAdapter(backend))
    expect(a3.doc.getText('t').toString()).toBe('acked legacy')
  })

  it('refuses a corrupted local checkpoint with a typed error', async () => {
    const { docId, ids, make } = await setup()
    const storage = new MemoryStorageAdapter()
    const a = await make(ids[0], storage)
    await a.save()
    await a.destroy()
    await storage.put(['valv', docId, 'cp'], new Uint8Array(200))
    await expect(make(ids[0], storage)).rejects.toMatchObject({ code: 'corrupt-local-state' })
  })

  it('accepts a chained snapshot and rejects an older one or a fork', async () => {
    const { ids, make } = await setup()
    const a = await make(ids[0])
    const b = await make(ids[1])
    const events: Misbehaviour[] = []
    b.on('misbehaviour', (m) => events.push(m))
    const sent = collect(a)
    a.doc.getText('t').insert(0, 'v1')
    await a.flush()
    a.acknowledge(1, 1)
    const s1 = await a.createSnapshot()
    await a.snapshotStored(s1.sealed)
    a.doc.getText('t').insert(2, ' v2')
    await a.flush()
    a.acknowledge(2, 2)
    const s2 = await a.createSnapshot()
    expect(s2.prevSeq).toBe(1)
    expect(await b.receiveSnapshot(s2.sealed, 2, transport)).toBe(true)
    expect(b.doc.getText('t').toString()).toBe('v1 v2')
    expect(b.snapshotSeq).toBe(2)
    expect(await b.receiveSnapshot(s1.sealed, 1, transport)).toBe(false)
    // Same upToSeq, different bytes: a fork.
    const other = await a.createSnapshot()
    expect(await b.receiveSnapshot(other.sealed, 2, transport)).toBe(false)
    expect(b.checkHead(1)).toBe(false)
    expect(events.map((e) => e.kind)).toEqual(['rollback', 'fork', 'rollback'])
    expect(sent).toHaveLength(2)
  })

  it('rejects a rollback after re-creating from the signed checkpoint', async () => {
    const { ids, make } = await setup()
    const a = await make(ids[0])
    const storage = new MemoryStorageAdapter()
    const b1 = await make(ids[1], storage)
    const sent = collect(a)
    for (const s of ['a', 'b']) {
      a.doc.getText('t').insert(0, s)
      await a.flush()
    }
    a.acknowledge(1, 1)
    const old = await a.createSnapshot()
    a.acknowledge(2, 2)
    const s2 = await a.createSnapshot()
    expect(await b1.receiveSnapshot(s2.sealed, 2, transport)).toBe(true)
    await b1.destroy()
    const b2 = await make(ids[1], storage)
    const events: Misbehaviour[] = []
    b2.on('misbehaviour', (m) => events.push(m))
    expect(b2.snapshotSeq).toBe(2)
    expect(await b2.receiveSnapshot(old.sealed, 1, transport)).toBe(false)
    expect(events[0]?.kind).toBe('rollback')
    expect(sent).toHaveLength(2)
  })

  it('converges for any interleaving of edits and delivery order (property)', async () => {
    const { ids, make } = await setup(3)
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(2), fc.nat(20), fc.string({ maxLength: 3 })), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.array(fc.nat(), { minLength: 30, maxLength: 30 }),
        async (edits, order) => {
          const docs = await Promise.all(ids.map((id) => make(id)))
          const log: { sealed: Uint8Array; from: number }[] = []
          for (const [i, d] of docs.entries()) {
            d.on('envelope', (e) => log.push({ sealed: e.sealed, from: i }))
          }
          for (const [who, pos, s] of edits) {
            const t = (docs[who] as EncryptedDoc).doc.getText('t')
            t.insert(Math.min(pos, t.length), s)
            if (pos % 3 === 0 && t.length > 0) t.delete(0, 1)
            await (docs[who] as EncryptedDoc).flush()
          }
          // Each receiver gets the log in its own shuffled order (seq = log index + 1).
          for (const [r, d] of docs.entries()) {
            const idx = log.map((_, i) => i)
            for (let i = idx.length - 1; i > 0; i--) {
              const j = (order[(i + r) % order.length] as number) % (i + 1)
              ;[idx[i], idx[j]] = [idx[j] as number, idx[i] as number]
            }
            for (const i of idx) {
              const entry = log[i] as { sealed: Uint8Array; from: number }
              if (entry.from !== r) await d.receiveUpdate(entry.sealed, i + 1, transport)
            }
          }
          const texts = docs.map((d) => d.doc.getText('t').toString())
          expect(new Set(texts).size).toBe(1)
          await Promise.all(docs.map((d) => d.destroy()))
        },
      ),
      { numRuns: 25 },
    )
  })
})
