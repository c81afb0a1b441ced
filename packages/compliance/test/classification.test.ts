import { DocumentSession, Identity, memoryKeyStore, Role } from '@valv/crypto'
import { LocalRelay } from '@valv/test-utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  AuditTrail,
  assertAllowed,
  authorizeExport,
  ComplianceError,
  complianceMap,
  createPolicyLink,
  defineScheme,
  ed25519AuditSigner,
  KRT_SCHEME,
  type LevelRules,
  type Marking,
  policyFor,
  readMarking,
  setMarking,
  strictest,
  verifyTrail,
} from '../src/index.js'

const signer = ed25519AuditSigner(new Uint8Array(32).fill(3))
const audit = async () => ({ trail: await AuditTrail.open('doc1'), signer })

const secret: Marking = {
  level: 'K1',
  secrecy: { provision: 'OSL 21 kap. 7 §', date: '2026-12-07', authority: 'Socialnämnden' },
}

describe('classification and secrecy marking', () => {
  it('a marking is stored inside the document, survives sync, and is audited without the provision', async () => {
    const ctx = await audit()
    const a = new Y.Doc()
    await setMarking(a, KRT_SCHEME, secret, ctx)
    const b = new Y.Doc()
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    expect(readMarking(b, KRT_SCHEME)).toEqual(secret)
    await setMarking(b, KRT_SCHEME, { level: 'K3', integrity: 2 }, ctx)
    expect(readMarking(b, KRT_SCHEME)).toEqual({ level: 'K3', integrity: 2 })
    expect(ctx.trail.entries.map((e) => e.details)).toEqual([
      { from: 'none', to: 'K1', secrecy: 'yes' },
      { from: 'K1', to: 'K3', secrecy: 'no' },
    ])
    expect(ctx.trail.records.some((r) => new TextDecoder().decode(r).includes('OSL'))).toBe(false)
    expect((await verifyTrail([...ctx.trail.records, await ctx.trail.head(signer)])).ok).toBe(true)
  })

  it('a bad marking is refused with a typed error and changes neither document nor trail', async () => {
    const ctx = await audit()
    const doc = new Y.Doc()
    await setMarking(doc, KRT_SCHEME, { level: 'K2' }, ctx)
    const bad: unknown[] = [
      { level: 'K9' },
      { level: 'K1', integrity: 7 },
      { level: 'K1', secrecy: { provision: '', date: '2026-01-01', authority: 'x' } },
      { level: 'K1', secrecy: { provision: 'OSL 25 kap. 1 §', date: '7 dec', authority: 'x' } },
    ]
    for (const m of bad) {
      const err = await setMarking(doc, KRT_SCHEME, m as Marking, ctx).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ComplianceError)
      expect(['unknown-level', 'invalid-argument']).toContain((err as ComplianceError).code)
    }
    expect(readMarking(doc, KRT_SCHEME)).toEqual({ level: 'K2' })
    expect(ctx.trail.length).toBe(1)
  })

  it('the default K/R/T policy: links up to K2, export reason from K2, secrecy is stricter', () => {
    const p = (m: Marking | undefined) => policyFor(KRT_SCHEME, m)
    expect(p(undefined)).toMatchObject({ level: undefined, linkSharing: true, export: 'allowed' })
    expect(p({ level: 'K2' })).toMatchObject({ linkSharing: true, export: 'with-reason' })
    expect(p({ level: 'K3' })).toMatchObject({
      linkSharing: false,
      offlineCopies: false,
      recoveryKeyRequired: true,
    })
    expect(p(secret)).toMatchObject({ linkSharing: false, export: 'with-reason', secret: true })
    expect(() => assertAllowed(p(secret), 'link-sharing')).toThrow(/no links/)
    expect(() => assertAllowed(p({ level: 'K2' }), 'export')).toThrow(/needs a reason/)
    expect(() => assertAllowed(p({ level: 'K2' }), 'export', 'dnr 2026/12')).not.toThrow()
    expect(() => assertAllowed(p({ level: 'K3' }), 'offline-copy')).toThrow(ComplianceError)
  })

  it('property: the secrecy overlay never loosens a level, and strictest is the meet', () => {
    const rules = fc.record({
      linkSharing: fc.boolean(),
      export: fc.constantFrom('allowed', 'with-reason', 'forbidden' as const),
      offlineCopies: fc.boolean(),
      recoveryKeyRequired: fc.boolean(),
      minRetentionDays: fc.nat(10_000),
    }) as fc.Arbitrary<LevelRules>
    const order = ['allowed', 'with-reason', 'forbidden']
    fc.assert(
      fc.property(rules, rules, (a, b) => {
        const s = strictest(a, b)
        for (const r of [a, b]) {
          if (s.linkSharing) expect(r.linkSharing).toBe(true)
          if (s.offlineCopies) expect(r.offlineCopies).toBe(true)
          if (r.recoveryKeyRequired) expect(s.recoveryKeyRequired).toBe(true)
          expect(order.indexOf(s.export)).toBeGreaterThanOrEqual(order.indexOf(r.export))
          expect(s.minRetentionDays).toBeGreaterThanOrEqual(r.minRetentionDays)
        }
        expect(strictest(b, a)).toEqual(s)
        const scheme = defineScheme({
          name: 't',
          levels: [{ id: 'L', label: 'L', rules: a }],
          secrecyRules: b,
        })
        const marked = policyFor(scheme, { level: 'L', secrecy: secret.secrecy! })
        expect(marked).toMatchObject(s)
      }),
    )
  })

  it('integrator schemes are checked', () => {
    const rules = KRT_SCHEME.levels[0]!.rules
    expect(() => defineScheme({ name: 'x', levels: [], secrecyRules: rules })).toThrow(
      ComplianceError,
    )
    const twice = [
      { id: 'a', label: 'A', rules },
      { id: 'a', label: 'B', rules },
    ]
    expect(() => defineScheme({ name: 'x', levels: twice, secrecyRules: rules })).toThrow(
      /repeated/,
    )
    const custom = defineScheme({
      name: 'Kommun',
      levels: [
        { id: 'open', label: 'Öppen', rules },
        { id: 'internal', label: 'Intern', rules: { ...rules, minRetentionDays: 3650 } },
      ],
      secrecyRules: KRT_SCHEME.secrecyRules,
    })
    expect(policyFor(custom, { level: 'internal' }).minRetentionDays).toBe(3650)
    expect(() => policyFor(custom, { level: 'K1' })).toThrow(
      expect.objectContaining({ code: 'unknown-level' }),
    )
  })

  it('links: refused above the policy with nothing created, audited when allowed', async () => {
    const me = await Identity.create()
    const session = await DocumentSession.create(me, { keyStore: memoryKeyStore() })
    await new LocalRelay().connect(session)
    const ctx = await audit()
    const before = session.membershipLength()
    await expect(
      createPolicyLink(session, policyFor(KRT_SCHEME, { level: 'K3' }), { role: Role.Viewer }, ctx),
    ).rejects.toMatchObject({ code: 'not-authorised' })
    expect(session.membershipLength()).toBe(before)
    expect(ctx.trail.length).toBe(0)
    const link = await createPolicyLink(
      session,
      policyFor(KRT_SCHEME, { level: 'K1' }),
      { role: Role.Viewer, singleUse: true },
      ctx,
    )
    expect(typeof link).toBe('string')
    expect(session.invites()).toHaveLength(1)
    expect(ctx.trail.entries[0]).toMatchObject({
      type: 'link.created',
      details: { role: 'viewer', maxUses: '1' },
    })
    expect(ctx.trail.records.some((r) => new TextDecoder().decode(r).includes(link))).toBe(false)
  })

  it('exports: a reason is required and recorded where the policy says so', async () => {
    const ctx = await audit()
    const k2 = policyFor(KRT_SCHEME, { level: 'K2' })
    await expect(authorizeExport(k2, { format: 'odt' }, ctx)).rejects.toMatchObject({
      code: 'not-authorised',
    })
    expect(ctx.trail.length).toBe(0)
    await authorizeExport(k2, { format: 'odt', reason: 'arkivleverans' }, ctx)
    expect(ctx.trail.entries[0]?.details).toEqual({
      format: 'odt',
      level: 'K2',
      reason: 'arkivleverans',
    })
  })

  it('a stored marking edited outside the API to an unknown level is reported, not trusted', () => {
    const doc = new Y.Doc()
    complianceMap(doc).set('marking', { level: 'TOP' })
    expect(() => readMarking(doc, KRT_SCHEME)).toThrow(
      expect.objectContaining({ code: 'unknown-level' }),
    )
  })
})
