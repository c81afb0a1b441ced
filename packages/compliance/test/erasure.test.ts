import { DocumentSession, Identity, memoryKeyStore, Role } from '@valv/crypto'
import { DocumentStore } from '@valv/storage'
import { LocalRelay } from '@valv/test-utils'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  AuditTrail,
  ComplianceError,
  ed25519AuditSigner,
  eraseDocument,
  erasureStatus,
  formatReceipt,
  parseReceipt,
  placeHold,
  readRetention,
  releaseHold,
  setRetention,
  verifyErasureReceipt,
  verifyTrail,
} from '../src/index.js'
import {
  type Backend,
  fsBackend,
  holds,
  memoryBackend,
  postgresBackend,
  s3Backend,
  sqliteBackend,
  stopS3,
} from './backends.js'
import { populate } from './populate.js'

afterAll(() => stopS3())

const signer = ed25519AuditSigner(new Uint8Array(32).fill(5))
const DAY = 86_400_000
const at = (date: string) => Date.parse(`${date}T12:00:00Z`)

const backends: Array<[string, () => Promise<Backend>]> = [
  ['memory', memoryBackend],
  ['fs', fsBackend],
  ['SQLite (database, WAL and shm files)', sqliteBackend],
  ['PostgreSQL (relation files after VACUUM FULL, and rows)', postgresBackend],
  ['S3 (s3rver bucket directory)', s3Backend],
]

describe('erasure', () => {
  for (const [name, make] of backends) {
    it(`${name}: refused under hold; then leaves none of the document's bytes, and keys are shredded`, async () => {
      const backend = await make()
      try {
        const me = await Identity.create()
        const gone = await populate(backend.adapter, me)
        const kept = await populate(backend.adapter, me)
        const before = await backend.scan()
        for (const n of [...gone.needles, ...kept.needles]) expect(holds(before, n)).toBe(true)

        // Control: the device can reopen the document from its key store and decrypt.
        const reopened = await DocumentSession.open(me, gone.docId, { keyStore: backend.adapter })
        expect((await reopened.open('update', gone.updates[0]!)).plaintext).toEqual(
          new TextEncoder().encode('update 1 åäö'),
        )

        const ydoc = new Y.Doc()
        const trail = await AuditTrail.open(gone.docId)
        const audit = { trail, signer }
        await placeHold(ydoc, { reference: 'dnr 2026/77', placedAt: '2026-12-01' }, audit)
        const request = {
          authority: gone.session,
          devices: [backend.adapter],
          documents: [gone.store],
          audit,
        }
        const refused = await eraseDocument({ ...request, retention: readRetention(ydoc) }).catch(
          (e: unknown) => e,
        )
        expect(refused).toBeInstanceOf(ComplianceError)
        expect((refused as ComplianceError).code).toBe('legal-hold')
        const still = await backend.scan()
        for (const n of gone.needles) expect(holds(still, n)).toBe(true)

        await releaseHold(ydoc, audit)
        const receipt = await eraseDocument({ ...request, retention: readRetention(ydoc) })
        expect(await verifyErasureReceipt(receipt)).toBe(true)

        const after = await backend.scan()
        for (const n of gone.needles) expect(holds(after, n)).toBe(false)
        for (const n of kept.needles) expect(holds(after, n)).toBe(true)
        const store = new DocumentStore(backend.adapter)
        expect(await store.headSeq(gone.docId)).toBeUndefined()

        // A holder of the old ciphertext, even with the member's identity, has no key left.
        const again = await DocumentSession.open(me, gone.docId, { keyStore: backend.adapter })
        expect(again.membershipLength()).toBe(0)
        await expect(again.open('update', gone.updates[0]!)).rejects.toThrow()

        expect(trail.entries.map((e) => e.type)).toEqual([
          'hold.placed',
          'erasure.refused',
          'hold.released',
          'erasure',
        ])
      } finally {
        await backend.teardown()
      }
    }, 120_000)
  }

  it('only an admin may erase; refusals are audited and change nothing', async () => {
    const me = await Identity.create()
    const backend = await memoryBackend()
    const doc = await populate(backend.adapter, me)
    const trail = await AuditTrail.open(doc.docId)
    const err = await eraseDocument({
      authority: { docId: doc.docId, role: Role.Editor },
      retention: {},
      documents: [doc.store],
      audit: { trail, signer },
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'not-authorised' })
    expect(await doc.store.headSeq(doc.docId)).toBe(4)
    expect(trail.entries[0]).toMatchObject({
      type: 'erasure.refused',
      details: { reason: 'not-authorised' },
    })
  })

  it('retention: refused through keepUntil and within the level minimum, allowed after', async () => {
    const ydoc = new Y.Doc()
    const trail = await AuditTrail.open('doc-r')
    const audit = { trail, signer }
    await setRetention(ydoc, { since: '2026-01-01', keepUntil: '2026-12-31' }, audit)
    const retention = readRetention(ydoc)
    expect(erasureStatus(retention, undefined, at('2026-12-31'))).toMatchObject({
      allowed: false,
      refusal: 'retention',
    })
    expect(erasureStatus(retention, undefined, at('2027-01-01')).allowed).toBe(true)
    // A K-level minimum of 730 days from 2026-01-01 outlasts keepUntil.
    const min = { minRetentionDays: 730 }
    expect(erasureStatus(retention, min, at('2027-06-01'))).toMatchObject({
      allowed: false,
      keepUntil: '2027-12-31',
    })
    expect(erasureStatus(retention, min, at('2028-01-01')).allowed).toBe(true)
    expect(erasureStatus({}, min, at('2030-01-01')).refusal).toBe('retention')
    expect(erasureStatus({ deleteAfter: '2027-01-01' }, undefined, at('2027-01-02')).due).toBe(true)

    const err = await eraseDocument({
      authority: { docId: 'doc-r', role: Role.Admin },
      retention,
      audit,
      now: () => at('2026-06-01'),
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'retention' })
    const receipt = await eraseDocument({
      authority: { docId: 'doc-r', role: Role.Admin },
      retention,
      keyStores: [memoryKeyStore()],
      audit,
      now: () => at('2027-01-01') + DAY,
    })
    expect(await verifyErasureReceipt(parseReceipt(formatReceipt(receipt)))).toBe(true)
    expect((await verifyTrail([...trail.records, await trail.head(signer)])).ok).toBe(true)
  })

  it('a hold survives retention changes; bad dates are refused and change nothing', async () => {
    const ydoc = new Y.Doc()
    const audit = { trail: await AuditTrail.open('doc-h'), signer }
    await placeHold(ydoc, { reference: 'case 1', placedAt: '2026-12-01' }, audit)
    await setRetention(ydoc, { keepUntil: '2027-01-01' }, audit)
    expect(readRetention(ydoc).hold?.reference).toBe('case 1')
    for (const bad of [
      { keepUntil: '2027-13-01' },
      { keepUntil: '2028-01-01', deleteAfter: '2027-01-01' },
    ]) {
      await expect(setRetention(ydoc, bad, audit)).rejects.toMatchObject({
        code: 'invalid-argument',
      })
    }
    expect(readRetention(ydoc)).toEqual({
      keepUntil: '2027-01-01',
      hold: { reference: 'case 1', placedAt: '2026-12-01' },
    })
    expect(audit.trail.length).toBe(2)
  })

  it('receipts: any change to either record, or a receipt for another document, fails', async () => {
    const audit = { trail: await AuditTrail.open('doc-q'), signer }
    const receipt = await eraseDocument({
      authority: { docId: 'doc-q', role: Role.Admin },
      retention: {},
      audit,
    })
    expect(
      await verifyErasureReceipt(receipt, new Set([Buffer.from(signer.publicKey).toString('hex')])),
    ).toBe(true)
    expect(await verifyErasureReceipt(receipt, new Set(['00']))).toBe(false)
    for (const field of ['entry', 'head'] as const) {
      for (let i = 0; i < receipt[field].length; i += 7) {
        const bytes = receipt[field].slice()
        bytes[i] = (bytes[i] as number) ^ 1
        expect(await verifyErasureReceipt({ ...receipt, [field]: bytes })).toBe(false)
      }
    }
    expect(await verifyErasureReceipt({ ...receipt, docId: 'doc-other' })).toBe(false)
    // A later head (another entry appended) does not seal the erasure entry.
    await audit.trail.append(signer, { type: 'export' })
    expect(await verifyErasureReceipt({ ...receipt, head: await audit.trail.head(signer) })).toBe(
      false,
    )
  })
})

describe('crypto-shredding of an in-memory key store', () => {
  it('memoryKeyStore forgets exactly one document, and its sessions can no longer open', async () => {
    const me = await Identity.create()
    const keyStore = memoryKeyStore()
    const relay = new LocalRelay()
    const a = await DocumentSession.create(me, { keyStore })
    const b = await DocumentSession.create(me, { keyStore })
    await relay.connect(a)
    await relay.connect(b)
    const envA = await a.seal('update', new Uint8Array([1, 2, 3]), 1)
    const envB = await b.seal('update', new Uint8Array([4, 5, 6]), 1)
    await eraseDocument({
      authority: a,
      retention: {},
      keyStores: [keyStore],
      audit: { trail: await AuditTrail.open(a.docId), signer },
    })
    const reA = await DocumentSession.open(me, a.docId, { keyStore })
    expect(reA.membershipLength()).toBe(0)
    await expect(reA.open('update', envA)).rejects.toThrow()
    const reB = await DocumentSession.open(me, b.docId, { keyStore })
    expect((await reB.open('update', envB)).plaintext).toEqual(new Uint8Array([4, 5, 6]))
  })
})
