import { DocumentSession, Identity, PublicCard, Role } from '@valv/crypto'
import { cleanup, startStack, until } from '@valv/test-utils/stack'
import { afterEach, describe, expect, it } from 'vitest'
import { dump } from './harness.js'

afterEach(cleanup)

describe('end to end through the real relay with real cryptography', () => {
  it('shares, syncs, stores only ciphertext, and locks out a removed member', async () => {
    const s = await startStack()
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
  })
})
