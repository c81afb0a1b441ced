import { DocumentSession, documentAuditSigner, Identity, PublicCard, Role } from '@valv/crypto'
import { toHex } from '@valv/protocol'
import { LocalRelay } from '@valv/test-utils'
import { describe, expect, it } from 'vitest'
import { AuditedSession, AuditTrail, verifyTrail } from '../src/index.js'

describe('AuditedSession', () => {
  it('records each membership change once, by chain position, and the trail verifies', async () => {
    const relay = new LocalRelay()
    const anna = await Identity.create({ displayName: 'Anna' })
    const bo = await Identity.create({ displayName: 'Bo' })
    const session = await DocumentSession.create(anna)
    await relay.connect(session)
    const signer = documentAuditSigner(session)
    const trail = await AuditTrail.open(session.docId)
    const admin = new AuditedSession(session, { trail, signer })

    await admin.share(PublicCard.parse(bo.card.toString()), Role.Editor)
    const boSession = await DocumentSession.open(bo, session.docId)
    await relay.connect(boSession)
    await boSession.joined()
    const boIndex = session.members().find((m) => m.userId === bo.userId)?.index
    await admin.setRole(bo.userId, Role.Viewer)
    const link = await admin.createInviteLink({ role: Role.Viewer, singleUse: true })
    const admission = session.invites().at(-1)?.admission
    await admin.revokeInvite(admission as number)
    await admin.unshare(bo.userId)

    expect(trail.entries.map((e) => [e.type, e.subject, e.details])).toEqual([
      ['member.added', expect.stringMatching(/^admission:\d+$/), { role: 'editor' }],
      ['member.role-changed', `member:${boIndex}`, { role: 'viewer' }],
      ['link.created', `admission:${admission}`, { role: 'viewer', maxUses: '1' }],
      ['link.revoked', `admission:${admission}`, undefined],
      ['member.removed', `member:${boIndex}`, undefined],
      ['key.rotated', undefined, { epoch: String(session.epoch) }],
    ])
    expect(session.epoch).toBeGreaterThan(0)
    // Neither user keys, names nor the link reach the (relay-kept) trail.
    const raw = new TextDecoder().decode(Buffer.concat(trail.records))
    for (const secret of [bo.userId, anna.userId, 'Bo', 'Anna', link.split('#').pop() as string]) {
      expect(raw).not.toContain(secret)
    }
    // Signed with the admin's per-document key: the one the membership chain knows.
    const verdict = await verifyTrail([...trail.records, await trail.head(signer)], {
      signers: new Set([session.author]),
    })
    expect(verdict.ok).toBe(true)
    expect(toHex(signer.publicKey)).toBe(session.author)
  })

  it('a change the session refuses is not recorded', async () => {
    const relay = new LocalRelay()
    const anna = await Identity.create()
    const session = await DocumentSession.create(anna)
    await relay.connect(session)
    const trail = await AuditTrail.open(session.docId)
    const admin = new AuditedSession(session, {
      trail,
      signer: documentAuditSigner(session),
    })
    await expect(admin.revokeInvite(99)).rejects.toThrow()
    expect(trail.length).toBe(0)
  })
})
