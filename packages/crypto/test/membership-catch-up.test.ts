import { LocalRelay } from '@valv/test-utils'
import { describe, expect, it } from 'vitest'
import {
  type CryptoError,
  DocumentSession,
  Identity,
  memoryKeyStore,
  PublicCard,
  Role,
} from '../src/index.js'

/** A document with a few members shared by its admin, and a newcomer invited last. */
async function document() {
  const relay = new LocalRelay()
  const anna = await Identity.create({ displayName: 'Anna' })
  const admin = await DocumentSession.create(anna, { keyStore: memoryKeyStore() })
  await relay.connect(admin)
  for (const name of ['Bo', 'Cy', 'Di', 'Ed']) {
    const who = await Identity.create({ displayName: name })
    await admin.share(PublicCard.parse(who.card.toString()), Role.Editor)
  }
  const newcomer = await Identity.create({ displayName: 'Newcomer' })
  await admin.share(PublicCard.parse(newcomer.card.toString()), Role.Viewer)
  const entries = relay.chains.get(admin.docId)?.entries ?? []
  return { admin, newcomer, entries }
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: CryptoError) => err.code,
  )

describe('DocumentSession.applyMembershipMany (a catch-up in one batch)', () => {
  it('ends where applying the entries one by one ends: same chain, keys and members', async () => {
    const { admin, newcomer, entries } = await document()
    const one = await DocumentSession.open(newcomer, admin.docId)
    for (const [i, e] of entries.entries()) await one.applyMembership(i, e)
    const many = await DocumentSession.open(newcomer, admin.docId)
    await many.applyMembershipMany(0, entries)
    expect(many.membershipLength()).toBe(one.membershipLength())
    expect(many.members()).toEqual(one.members())
    expect(many.invites()).toEqual(one.invites())
    // Overlapping and repeated batches compare what is held, as single entries do.
    await many.applyMembershipMany(2, entries.slice(2))
    expect(many.membershipLength()).toBe(entries.length)
  })

  it('stops at a damaged entry with its error, keeping the entries before it', async () => {
    const { admin, newcomer, entries } = await document()
    const bad = entries.map((e) => e.slice())
    const at = 3
    const damaged = bad[at] as Uint8Array
    damaged[damaged.length - 1] = (damaged[damaged.length - 1] as number) ^ 1
    const one = await DocumentSession.open(newcomer, admin.docId)
    let want = 'ok'
    for (const [i, e] of bad.entries()) {
      want = await codeOf(one.applyMembership(i, e))
      if (want !== 'ok') break
    }
    const many = await DocumentSession.open(newcomer, admin.docId)
    expect(await codeOf(many.applyMembershipMany(0, bad))).toBe(want)
    expect(want).toBe('bad-signature')
    expect(many.membershipLength()).toBe(at)
    expect(one.membershipLength()).toBe(at)
    // A gap is refused as for a single entry.
    expect(await codeOf(many.applyMembershipMany(at + 1, entries.slice(at + 1)))).toBe(
      'invalid-state',
    )
  })
})
