// The adapter reads the global IDBKeyRange even when given a factory: install the globals.
import 'fake-indexeddb/auto'
import { defaultVerifier, Relay } from '@valv/relay'
import { IndexedDBStorageAdapter } from '@valv/storage-indexeddb'
import { MemoryBackend, MemoryStorageAdapter } from '@valv/storage-memory'
import { cleanup, startStack, until } from '@valv/test-utils/stack'
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { startRoom } from './harness.js'

afterEach(cleanup)

describe('WebsocketProvider against the real relay', () => {
  it('syncs edits both ways, counts unsynced changes down to 0 on acks, shares cursors', async () => {
    const h = await startStack()
    const r = await startRoom(h.url)
    const a = r.adminProvider
    const b = await r.connect(r.editors[0]!)
    await b.whenSynced()
    const counts: number[] = []
    a.on('unsyncedChanges', (n) => counts.push(n))
    a.doc.getText('t').insert(0, 'hello')
    await until(() => b.doc.getText('t').toString() === 'hello')
    await until(() => a.unsyncedChanges === 0)
    expect(counts).toContain(1)
    expect(counts.at(-1)).toBe(0)
    b.doc.getText('t').insert(5, ' world')
    await until(() => a.doc.getText('t').toString() === 'hello world')
    b.awareness.setLocalStateField('cursor', { anchor: 3 })
    await until(() => a.awareness.getStates().get(b.awareness.clientID)?.cursor?.anchor === 3)
  })

  it('merges offline edits after reconnect, and after destroy + re-create from storage', async () => {
    const h = await startStack()
    const r = await startRoom(h.url)
    const backend = new MemoryBackend()
    const editor = r.editors[0]!
    const b1 = await r.connect(editor, { storage: new MemoryStorageAdapter(backend) })
    await b1.whenSynced()
    b1.disconnect()
    b1.doc.getText('t').insert(0, 'offline-1 ')
    r.adminProvider.doc.getText('t').insert(0, 'online ')
    await until(() => b1.unsyncedChanges === 1)
    b1.connect()
    await until(() => r.adminProvider.doc.getText('t').toString().includes('offline-1'))
    await until(() => b1.doc.getText('t').toString().includes('online'))
    // Offline again, edit, then the tab is closed.
    b1.disconnect()
    b1.doc.getText('t').insert(0, 'offline-2 ')
    await until(() => b1.unsyncedChanges === 1)
    await b1.destroy()
    const b2 = await r.connect(editor, { storage: new MemoryStorageAdapter(backend) })
    await b2.binding.ready
    expect(b2.doc.getText('t').toString()).toContain('offline-2')
    await until(() => r.adminProvider.doc.getText('t').toString().includes('offline-2'))
    await until(() => b2.unsyncedChanges === 0)
    expect(b2.doc.getText('t').toString()).toBe(r.adminProvider.doc.getText('t').toString())
  })

  it('keeps offline edits in IndexedDB across a page reload and sends them on reconnect', async () => {
    const h = await startStack()
    const r = await startRoom(h.url)
    const indexedDB = new IDBFactory() // one browser profile, shared by both "page loads"
    const page = () => new IndexedDBStorageAdapter({ indexedDB, dbName: 'valv-test' })
    const editor = r.editors[0]!
    const first = await r.connect(editor, { storage: page() })
    await first.whenSynced()
    first.disconnect()
    first.doc.getText('t').insert(0, 'written on the train')
    await until(() => first.unsyncedChanges === 1)
    await first.destroy()
    expect(r.adminProvider.doc.getText('t').toString()).toBe('')
    const second = await r.connect(editor, { storage: page() })
    await second.binding.ready
    expect(second.unsyncedChanges).toBe(1)
    await until(() => r.adminProvider.doc.getText('t').toString() === 'written on the train')
    await until(() => second.unsyncedChanges === 0)
  })

  it('compacts: a writer uploads a snapshot and a new client loads snapshot + tail', async () => {
    const h = await startStack()
    const r = await startRoom(h.url)
    const a = r.adminProvider
    const b = await r.connect(r.editors[0]!, { compactAfter: 10 })
    await b.whenSynced()
    for (let i = 0; i < 30; i++) {
      b.doc.getText('t').insert(0, String(i % 10))
      await until(() => b.unsyncedChanges === 0)
    }
    await until(() => b.binding.snapshotSeq > 0, 5000, 'snapshot')
    await until(() => a.binding.snapshotSeq > 0, 5000, 'snapshot forwarded')
    const c = await r.connect(r.editors[0]!)
    await c.whenSynced()
    expect(c.binding.snapshotSeq).toBeGreaterThan(0)
    expect(c.doc.getText('t').toString()).toBe(b.doc.getText('t').toString())
    expect(c.doc.getText('t').length).toBe(30)
  })

  it('goes quiet on the browser offline event and reconnects on online', async () => {
    const h = await startStack()
    const r = await startRoom(h.url)
    const g = globalThis as { window?: EventTarget }
    g.window = new EventTarget() // the provider listens on window, as in a browser
    try {
      const b = await r.connect(r.editors[0]!)
      await b.whenSynced()
      g.window.dispatchEvent(new Event('offline'))
      expect(b.status).toBe('disconnected')
      b.doc.getText('t').insert(0, 'typed offline')
      // No reconnect timer runs while offline (the harness backoff would retry within 200 ms).
      await new Promise((res) => setTimeout(res, 400))
      expect(b.status).toBe('disconnected')
      expect(b.unsyncedChanges).toBe(1)
      g.window.dispatchEvent(new Event('online'))
      await until(() => r.adminProvider.doc.getText('t').toString() === 'typed offline')
      await until(() => b.unsyncedChanges === 0)
      await b.destroy()
    } finally {
      delete g.window
    }
  })

  it('a relay shutdown flushes; clients fail over to a relay on the same store and lose nothing', async () => {
    const backend = new MemoryBackend()
    const relays = [0, 1].map(
      () =>
        new Relay({
          storage: new MemoryStorageAdapter(backend),
          verifier: defaultVerifier(),
          logger: () => undefined,
        }),
    )
    const urls: string[] = []
    for (const relay of relays) {
      urls.push(`ws://127.0.0.1:${(await relay.listen(0)).port}`)
    }
    try {
      const r = await startRoom(urls[0]!)
      const b = await r.connect(r.editors[0]!, { urls })
      await b.whenSynced()
      const t = b.doc.getText('t')
      for (let i = 0; i < 20; i++) t.insert(t.length, `${i % 10}`)
      await until(() => b.unsyncedChanges === 0)
      const acked = t.toString()
      await relays[0]!.close()
      await until(() => b.status === 'connected' && b.synced, 5000, 'failover')
      t.insert(0, 'after ')
      await until(() => b.unsyncedChanges === 0)
      const fresh = await r.connect(r.editors[0]!, { url: urls[1]! })
      await fresh.whenSynced()
      const text = fresh.doc.getText('t').toString()
      expect(text).toBe(`after ${acked}`)
    } finally {
      await cleanup()
      for (const relay of relays) await relay.close()
    }
  })

  it('fails over to the next URL when the first is down', async () => {
    const h = await startStack()
    const r = await startRoom(h.url)
    const doc = new Y.Doc()
    const p = await r.connect(r.editors[0]!, { doc, urls: ['ws://127.0.0.1:1', h.url] } as never)
    await p.whenSynced()
    expect(p.status).toBe('connected')
  })
})
