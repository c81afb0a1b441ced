/**
 * Ed25519 rule split (issue 12, item 11): a joined editor signs an update with R = r·B + T, T of
 * order 8. The cofactored equation accepts it, the cofactorless one refuses it; before one rule
 * held on every path, members without WebCrypto Ed25519 applied the edit and the others blamed
 * the relay. Now the relay and every member refuse it, and the author is the one blamed.
 */
import type { Misbehaviour } from '@valv/core'
import { DocumentSession, Identity, PublicCard, Role } from '@valv/crypto'
import {
  CryptoError,
  decodeEnvelope,
  domainMessage,
  joinSignature,
  utf8,
  verifyEnvelope,
} from '@valv/protocol'
import { DocumentStore } from '@valv/storage'
import { cleanup, startStack, until } from '@valv/test-utils/stack'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { documentSigningSecret } from '../../packages/crypto/src/identity.js'
import { signWithTorsion } from '../../packages/protocol/test/torsion.js'

afterEach(cleanup)

/**
 * `@valv/crypto` loaded afresh while WebCrypto has no Ed25519, as on a plain-http origin: its
 * sessions verify with the pure-JS path only.
 */
async function cryptoWithoutWebCryptoEd25519() {
  const real = globalThis.crypto
  vi.resetModules()
  vi.stubGlobal('crypto', { getRandomValues: real.getRandomValues.bind(real) })
  try {
    const protocol = await import('@valv/protocol')
    return { ...(await import('@valv/crypto')), native: protocol.ed25519Native }
  } finally {
    vi.unstubAllGlobals()
    vi.resetModules()
  }
}

async function reason(p: Promise<unknown>): Promise<CryptoError> {
  try {
    await p
  } catch (err) {
    return err as CryptoError
  }
  throw new Error('accepted')
}

describe('Ed25519: one acceptance rule on every path', () => {
  it('an editor’s R = r·B + T update is refused by the relay and every member, and blamed on the editor', async () => {
    const plain = await cryptoWithoutWebCryptoEd25519()
    expect(await plain.native()).toBe(false)
    const s = await startStack()
    const anna = await Identity.create({ displayName: 'Anna' })
    const mallory = await Identity.create({ displayName: 'Mallory' })
    const cai = await plain.Identity.create({ displayName: 'Cai' })
    const admin = await DocumentSession.create(anna)
    const a = await s.connect(admin)
    await admin.share(PublicCard.parse(mallory.card.toString()), Role.Editor)
    await admin.share(PublicCard.parse(cai.card.toString()), Role.Editor)
    const evil = await DocumentSession.open(mallory, admin.docId)
    await s.connect(evil)
    await evil.joined()
    const caiSession = await plain.DocumentSession.open(cai, admin.docId)
    const c = await s.connect(caiSession as unknown as DocumentSession)
    await caiSession.joined()
    a.doc.getText('t').insert(0, 'protokoll')
    await until(() => c.doc.getText('t').toString() === 'protokoll', 10_000, 'sync to Cai')

    // Mallory seals a real edit, then re-signs it with a torsion-laden R.
    const edit = new Y.Doc()
    edit.getText('t').insert(0, 'FORGED ')
    const sealed = await evil.seal('update', Y.encodeStateAsUpdate(edit), 1000)
    const env = decodeEnvelope(sealed)
    // Mallory's real per-document key, derived as her session derives it.
    const secret = documentSigningSecret(mallory, admin.docId)
    const message = domainMessage('envelope', utf8(admin.docId), env.signed)
    const forged = joinSignature(env.signed, signWithTorsion(message, secret))

    // The relay refuses it and counts it; nothing is stored.
    const raw = await (await s.raw()).auth()
    await raw.subscribe(admin.docId)
    const log = new DocumentStore(s.storage)
    const before = await log.headSeq(admin.docId)
    raw.send({ type: 'envelope', docId: admin.docId, ref: 7, envelope: forged })
    const refused = await raw.next((f) => f.type === 'error' || f.type === 'ack')
    expect(refused).toMatchObject({ type: 'error', ref: 7, code: 'bad-signature' })
    expect(s.relay.metrics.rejections.get('bad-signature')).toBe(1)
    expect(s.logs).toContainEqual(
      expect.objectContaining({ event: 'reject', code: 'bad-signature', ref: 7 }),
    )
    expect(await log.headSeq(admin.docId)).toBe(before)

    // Every member refuses it too: WebCrypto (Anna), pure JS (Cai), and the synchronous path,
    // and each names Mallory as its author.
    const malloryId = evil.author
    const annaErr = await reason(admin.open('update', forged))
    const caiErr = await reason(caiSession.open('update', forged))
    for (const err of [annaErr, caiErr]) {
      expect(err.code).toBe('bad-signature')
      expect(err.author).toBe(malloryId)
    }
    type State = Parameters<typeof verifyEnvelope>[0]
    const state = (admin as unknown as { chain: { state: State } }).chain.state
    expect(() => verifyEnvelope(state, forged, { kind: 'update' })).toThrowError(CryptoError)

    // Delivered anyway (by a relay that does not check), it is recorded against the author.
    const seen: Misbehaviour[] = []
    c.on('misbehaviour', (m) => seen.push(m))
    a.on('misbehaviour', (m) => seen.push(m))
    for (const p of [a, c]) {
      expect(await p.binding.receiveUpdate(forged, 1_000_000, {})).toBe('rejected')
    }
    expect(seen).toHaveLength(2)
    for (const m of seen) {
      expect(m).toMatchObject({ kind: 'invalid', author: malloryId })
      expect(m.message).not.toMatch(/relay/)
    }
    expect(a.doc.getText('t').toString()).toBe('protokoll')
    expect(c.doc.getText('t').toString()).toBe('protokoll')
  })
})
