import { randomBytes } from 'node:crypto'
import {
  DocumentSession,
  documentAuditSigner,
  Identity,
  PublicCard,
  RecoveryKey,
  Role,
} from '@valv/crypto'
import { toHex } from '@valv/protocol'
import { LocalRelay } from '@valv/test-utils'
import { describe, expect, it, vi } from 'vitest'
import {
  AuditedSession,
  AuditTrail,
  ed25519AuditSigner,
  recoverAudited,
  verifyTrail,
} from '../src/index.js'

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
    // Bo's join reaches Anna's device through the relay; setRole names the devices it knows.
    const boIndex = await vi.waitFor(() => {
      const index = session.members().find((m) => m.userId === bo.userId)?.index
      if (index === undefined) throw new Error('join not seen yet')
      return index
    })
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

  it('watch records a join through a link as link.used and one through a share as member.joined', async () => {
    const relay = new LocalRelay()
    const anna = await Identity.create({ displayName: 'Anna' })
    const session = await DocumentSession.create(anna)
    await relay.connect(session)
    const trail = await AuditTrail.open(session.docId)
    const admin = new AuditedSession(session, { trail, signer: documentAuditSigner(session) })
    const stop = admin.watch()

    const bo = await Identity.create({ displayName: 'Bo' })
    await admin.share(PublicCard.parse(bo.card.toString()), Role.Editor)
    const shareAdmission = session.invites().at(-1)?.admission
    const boSession = await DocumentSession.open(bo, session.docId)
    await relay.connect(boSession)
    await boSession.joined()

    const link = await admin.createInviteLink({ role: Role.Viewer, singleUse: true })
    const linkAdmission = session.invites().at(-1)?.admission
    const cy = await Identity.create({ displayName: 'Cy' })
    const cySession = await DocumentSession.join(cy, link)
    await relay.connect(cySession)
    await cySession.joined()
    // The admin's device applies (and stores) the join when the relay delivers it.
    for (let i = 0; !trail.entries.some((e) => e.type === 'link.used'); i++) {
      if (i > 1000) throw new Error('link.used was never recorded')
      await new Promise((r) => setTimeout(r, 5))
    }
    await admin.settled()
    stop()
    const boIndex = session.members().find((m) => m.userId === bo.userId)?.index
    const cyIndex = session.members().find((m) => m.userId === cy.userId)?.index

    const joins = trail.entries
      .filter((e) => e.type === 'link.used' || e.type === 'member.joined')
      .map((e) => [e.type, e.subject, e.details])
    expect(joins).toEqual([
      [
        'member.joined',
        `admission:${shareAdmission}`,
        { member: `member:${boIndex}`, role: 'editor' },
      ],
      ['link.used', `admission:${linkAdmission}`, { member: `member:${cyIndex}`, role: 'viewer' }],
    ])
    // Stopped: a later join is not recorded.
    const dan = await Identity.create()
    await admin.share(PublicCard.parse(dan.card.toString()), Role.Viewer)
    const danSession = await DocumentSession.open(dan, session.docId)
    await relay.connect(danSession)
    await danSession.joined()
    await admin.settled()
    expect(trail.entries.filter((e) => e.type === 'member.joined')).toHaveLength(1)
    const raw = new TextDecoder().decode(Buffer.concat(trail.records))
    for (const secret of [bo.userId, cy.userId, 'Cy', link.split('#').pop() as string]) {
      expect(raw).not.toContain(secret)
    }
  })

  it('recoverAudited records recovery.used before the session exists, and refuses without a record', async () => {
    const relay = new LocalRelay()
    const recovery = RecoveryKey.generate()
    const anna = await Identity.create()
    const session = await DocumentSession.create(anna, { recovery: recovery.publicKey })
    await relay.connect(session)
    const sealed = await session.seal('update', new TextEncoder().encode('beslut'), 1)
    const trail = await AuditTrail.open(session.docId)
    const toolKey = randomBytes(32)
    const audit = { trail, signer: ed25519AuditSigner(toolKey) }

    // A reason over the limit: nothing recorded, so no session either.
    await expect(
      recoverAudited(recovery, session.docId, { audit, reason: 'x'.repeat(600) }),
    ).rejects.toMatchObject({ code: 'invalid-argument' })
    expect(trail.length).toBe(0)

    const org = await recoverAudited(recovery, session.docId, { audit, reason: 'dnr 2026/81' })
    expect(trail.entries.map((e) => [e.type, e.subject, e.details])).toEqual([
      ['recovery.used', session.docId, { reason: 'dnr 2026/81' }],
    ])
    await relay.connect(org)
    const opened = await org.open('update', sealed)
    expect(new TextDecoder().decode(opened.plaintext)).toBe('beslut')
    const verdict = await verifyTrail([...trail.records, await trail.head(audit.signer)], {
      signers: new Set([toHex(audit.signer.publicKey)]),
    })
    expect(verdict.ok).toBe(true)
  })
})
