import { DocumentSession, Identity, PublicCard, Role } from '@valv/crypto'
import { defaultVerifier, Relay } from '@valv/relay'
import { MemoryStorageAdapter } from '@valv/storage-memory'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from '../src/index.js'
import { cleanup, dump, until } from './harness.js'

afterEach(cleanup)

/** The real stack: relay with `@valv/protocol` verification, providers with `@valv/crypto`. */
async function stack() {
  const storage = new MemoryStorageAdapter()
  const relay = new Relay({ storage, verifier: defaultVerifier() })
  const { port } = await relay.listen(0, '127.0.0.1')
  const url = `ws://127.0.0.1:${port}`
  const providers: WebsocketProvider[] = []
  const connect = async (session: DocumentSession) => {
    const p = new WebsocketProvider({
      url,
      doc: new Y.Doc(),
      docId: session.docId,
      document: session,
      WebSocketPolyfill: WebSocket as never,
      batch: { windowMs: 5 },
      backoff: { minMs: 20, maxMs: 200 },
    })
    providers.push(p)
    await session.attach(p)
    await p.whenSynced()
    return p
  }
  const close = async () => {
    for (const p of providers) await p.destroy()
    await relay.close()
  }
  return { storage, relay, connect, close }
}

describe('end to end through the real relay with real cryptography', () => {
  it('shares, syncs, stores only ciphertext, and locks out a removed member', async () => {
    const s = await stack()
    try {
      const anna = await Identity.create({ displayName: 'Anna' })
      const bo = await Identity.create({ displayName: 'Bo' })
      const admin = await DocumentSession.create(anna)
      const a = await s.connect(admin)
      await admin.share(PublicCard.parse(bo.card.toString()), Role.Editor)
      const boSession = await DocumentSession.open(bo, admin.docId)
      const b = await s.connect(boSession)
      await boSession.joined()
      expect(boSession.role).toBe(Role.Editor)

      a.doc.getText('t').insert(0, 'hemligt protokoll')
      await until(() => b.doc.getText('t').toString() === 'hemligt protokoll', 10_000, 'sync a→b')
      b.doc.getText('t').insert(0, 'Bo: ')
      await until(() => a.doc.getText('t').toString().startsWith('Bo: '), 10_000, 'sync b→a')

      // The relay's storage holds no plaintext and no member name.
      const stored = Buffer.concat((await dump(s.storage)).map(([, v]) => v))
      expect(stored.includes(Buffer.from('hemligt'))).toBe(false)
      expect(stored.includes(Buffer.from('Anna'))).toBe(false)

      await admin.unshare(bo.userId)
      expect(admin.epoch).toBe(1)
      a.doc.getText('t').insert(0, 'efter: ')
      await new Promise((r) => setTimeout(r, 300))
      expect(b.doc.getText('t').toString().startsWith('efter')).toBe(false)
      expect(boSession.canWrite()).toBe(false)
    } finally {
      await s.close()
    }
  })
})
