import { EncryptedDoc, type QueuedEnvelope } from '@valv/core'
import { DocumentSession, Identity, memoryKeyStore, PublicCard, Role } from '@valv/crypto'
import type { StorageKey } from '@valv/storage'
import { MemoryBackend, MemoryStorageAdapter } from '@valv/storage-memory'
import { LocalRelay } from '@valv/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'

const bindings: EncryptedDoc[] = []
afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(bindings.splice(0).map((b) => b.destroy().catch(() => undefined)))
})

async function session(): Promise<DocumentSession> {
  const me = await Identity.create({ displayName: 'Anna' })
  return DocumentSession.create(me, { keyStore: memoryKeyStore() })
}

async function bind(
  crypto: DocumentSession,
  storage?: MemoryStorageAdapter,
  compactLocalAfter?: number,
): Promise<EncryptedDoc> {
  const b = new EncryptedDoc({
    doc: new Y.Doc(),
    docId: crypto.docId,
    crypto,
    ...(storage ? { storage } : {}),
    ...(compactLocalAfter ? { compactLocalAfter } : {}),
  })
  bindings.push(b)
  await b.ready
  return b
}

function next(b: EncryptedDoc): Promise<QueuedEnvelope> {
  return new Promise((resolve) => b.once('envelope', resolve))
}

/** A storage adapter that records the keys written. */
class Recording extends MemoryStorageAdapter {
  readonly puts: string[] = []
  override put(key: StorageKey, value: Uint8Array): Promise<void> {
    this.puts.push(key.join('/'))
    return super.put(key, value)
  }
}

describe('adaptive batching', () => {
  it('seals a lone keystroke at once: no timer stands between the edit and the envelope', async () => {
    const crypto = await session()
    const a = await bind(crypto)
    // With timers frozen, a batch window could never close: the envelope must come anyway.
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval'] })
    const sent = next(a)
    a.doc.getText('t').insert(0, 'x')
    expect(a.unsynced).toBe(1)
    const e = await sent
    expect(e.counter).toBe(1)
    const opened = await crypto.open('update', e.sealed)
    const check = new Y.Doc()
    Y.applyUpdate(check, opened.plaintext)
    expect(check.getText('t').toString()).toBe('x')
  })

  it('collects the edits made while a seal is in flight into one envelope', async () => {
    const crypto = await session()
    const a = await bind(crypto)
    const b = await bind(crypto)
    const sent: QueuedEnvelope[] = []
    a.on('envelope', (e) => sent.push(e))
    const text = a.doc.getText('t')
    text.insert(0, 'a')
    for (const ch of 'bcdef') text.insert(text.length, ch)
    await a.flush()
    expect(sent).toHaveLength(2)
    for (const [i, e] of sent.entries()) {
      expect(await b.receiveUpdate(e.sealed, i + 1, {})).toBe('applied')
    }
    expect(b.doc.getText('t').toString()).toBe('abcdef')
  })
})

describe('local persistence', () => {
  it('appends what changed instead of re-sealing the whole state, and compacts every N chunks', async () => {
    const crypto = await session()
    const backend = new MemoryBackend()
    const storage = new Recording(backend)
    const writer = await bind(crypto)
    const a = await bind(crypto, storage, 3)
    await a.save() // first save: the compacted state
    const statePuts = () => storage.puts.filter((k) => k.includes('/state/')).length
    expect(statePuts()).toBe(1)
    let seq = 0
    const sent: QueuedEnvelope[] = []
    writer.on('envelope', (e) => sent.push(e))
    for (const word of ['one ', 'two ', 'three ', 'four ']) {
      writer.doc.getText('t').insert(writer.doc.getText('t').length, word)
      await writer.flush()
      const e = sent.at(-1) as QueuedEnvelope
      expect(await a.receiveUpdate(e.sealed, ++seq, {})).toBe('applied')
      await a.save()
    }
    // Three chunks appended, then the fourth save compacted instead.
    expect(storage.puts.filter((k) => k.includes('/u/'))).toHaveLength(3)
    expect(statePuts()).toBe(2)
    const chunks = async () => {
      let n = 0
      for await (const _ of storage.list({ prefix: ['valv', crypto.docId, 'u'] })) n++
      return n
    }
    expect(await chunks()).toBe(0)
    writer.doc.getText('t').insert(writer.doc.getText('t').length, 'five')
    await writer.flush()
    expect(await a.receiveUpdate((sent.at(-1) as QueuedEnvelope).sealed, ++seq, {})).toBe('applied')
    await a.destroy()
    expect(await chunks()).toBe(1)
    expect(statePuts()).toBe(2)
    // A reload applies the state, then the chunk; the checkpoint still carries lastSeq.
    const again = await bind(crypto, new MemoryStorageAdapter(backend), 3)
    expect(again.doc.getText('t').toString()).toBe('one two three four five')
    expect(again.lastSeq).toBe(5)
  })

  it('refuses a tampered appended chunk with a typed error', async () => {
    const crypto = await session()
    const storage = new MemoryStorageAdapter()
    const a = await bind(crypto, storage)
    await a.save()
    a.doc.getText('t').insert(0, 'kept')
    await a.flush()
    a.acknowledge(1, 1)
    await a.save()
    let key: string[] = []
    for await (const e of storage.list({ prefix: ['valv', crypto.docId, 'u'] })) key = [...e.key]
    expect(key[3]).toMatch(/^000000000000-/)
    const chunk = (await storage.get(key)) as Uint8Array
    expect(chunk).toBeDefined()
    chunk[chunk.length - 1] = (chunk[chunk.length - 1] as number) ^ 1
    await storage.put(key, chunk)
    await a.destroy()
    await expect(bind(crypto, storage)).rejects.toMatchObject({ code: 'corrupt-local-state' })
  })
})

describe('closed seam', () => {
  it('an edit held while not yet a writer is sealed when the membership arrives, with no transport call', async () => {
    const relay = new LocalRelay()
    const anna = await Identity.create({ displayName: 'Anna' })
    const admin = await DocumentSession.create(anna, { keyStore: memoryKeyStore() })
    await relay.connect(admin)
    const bo = await Identity.create({ displayName: 'Bo' })
    await admin.share(PublicCard.parse(bo.card.toString()), Role.Editor)
    const joiner = await DocumentSession.open(bo, admin.docId, { keyStore: memoryKeyStore() })
    const b = await bind(joiner)
    const errors: unknown[] = []
    b.on('error', (e) => errors.push(e))
    b.doc.getText('t').insert(0, 'early')
    await b.flush()
    expect(errors).toHaveLength(1)
    expect(b.unsynced).toBe(1)
    const sent = next(b)
    // Only the session hears of the membership; EncryptedDoc listens to it itself.
    await relay.connect(joiner)
    await joiner.joined()
    const e = await sent
    const opened = await admin.open('update', e.sealed)
    expect(opened.author).toBe(joiner.author)
  })

  it('seals and opens presence through the binding', async () => {
    const crypto = await session()
    const a = await bind(crypto)
    const message = new TextEncoder().encode('cursor at 3')
    const sealed = await a.sealPresence(message)
    const opened = await a.openPresence(sealed)
    expect(opened).toMatchObject({ author: crypto.author, writer: true })
    expect(new TextDecoder().decode(opened.message)).toBe('cursor at 3')
    sealed[sealed.length - 1] = (sealed[sealed.length - 1] as number) ^ 1
    await expect(a.openPresence(sealed)).rejects.toThrow()
  })
})
