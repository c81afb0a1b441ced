import { EncryptedDoc } from '@valv/core'
import { DocumentSession, Identity, PublicCard, Role } from '@valv/crypto'
import { MemoryStorageAdapter } from '@valv/storage-memory'
import { sharedDocument } from '@valv/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

const bindings: EncryptedDoc[] = []
afterEach(async () => {
  await Promise.all(bindings.splice(0).map((b) => b.destroy().catch(() => undefined)))
})

const transport = {}

describe('local state cache', () => {
  it('a save that failed (member not joined yet) is redone whole: a reopen holds all it applied', async () => {
    const shared = await sharedDocument([])
    const { admin, docId } = shared
    // Cai was shared the document and reads it before joining, as a loading client does: it
    // can open content, but not seal the state cache yet.
    const cai = await Identity.create({ displayName: 'Cai' })
    await admin.share(PublicCard.parse(cai.card.toString()), Role.Editor)
    const session = await DocumentSession.open(cai, docId)
    for (const [i, entry] of shared.chain().entries()) await session.applyMembership(i, entry)
    const storage = new MemoryStorageAdapter()
    const make = async () => {
      const b = new EncryptedDoc({ doc: new Y.Doc(), docId, crypto: session, storage })
      bindings.push(b)
      await b.ready
      return b
    }
    const writer = new EncryptedDoc({ doc: new Y.Doc(), docId, crypto: admin })
    bindings.push(writer)
    const sealed: Uint8Array[] = []
    writer.on('envelope', (e) => sealed.push(e.sealed))
    const reader = await make()
    writer.doc.getText('t').insert(0, 'before the join. ')
    await writer.flush()
    expect(await reader.receiveUpdate(sealed[0] as Uint8Array, 1, transport)).toBe('applied')
    await expect(reader.save()).rejects.toThrow(/not a member/)
    await shared.relay.connect(session)
    await session.joined()
    writer.doc.getText('t').insert(17, 'After it.')
    await writer.flush()
    expect(await reader.receiveUpdate(sealed[1] as Uint8Array, 2, transport)).toBe('applied')
    await reader.save()
    await reader.destroy()
    const reopened = await make()
    expect(reopened.lastSeq).toBe(2)
    expect(reopened.doc.getText('t').toString()).toBe('before the join. After it.')
  })
})
