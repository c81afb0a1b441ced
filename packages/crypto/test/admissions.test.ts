import { admissionUsable, decodeEntry, MembershipState } from '@valv/protocol'
import { LocalRelay } from '@valv/test-utils'
import { describe, expect, it } from 'vitest'
import {
  DocumentSession,
  Identity,
  type KeyStore,
  memoryKeyStore,
  PublicCard,
  Role,
} from '../src/index.js'
import { decodeParts, PartTag } from '../src/payload.js'
import { codeOf } from './code-of.js'

const text = (s: string) => new TextEncoder().encode(s)
const str = (b: Uint8Array) => new TextDecoder().decode(b)
const nowSeconds = () => Math.floor(Date.now() / 1000)

async function team(options: Parameters<typeof DocumentSession.create>[1] = {}) {
  const relay = new LocalRelay()
  const [anna, bo, cy, eve] = await Promise.all(
    ['Anna', 'Bo', 'Cy', 'Eve'].map((displayName) => Identity.create({ displayName })),
  )
  const admin = await DocumentSession.create(anna as Identity, options)
  await relay.connect(admin)
  return {
    relay,
    anna: anna as Identity,
    bo: bo as Identity,
    cy: cy as Identity,
    eve: eve as Identity,
    admin,
  }
}

type Team = Awaited<ReturnType<typeof team>>

/** A session that joined through `link` (or tried to: it keeps whatever the link unlocks). */
async function viaLink(t: Team, who: Identity, link: string, join = true) {
  const s = await DocumentSession.join(who, link)
  await t.relay.connect(s)
  if (join) await s.joined()
  return s
}

async function viaShare(t: Team, who: Identity, role: Role) {
  await t.admin.share(PublicCard.parse(who.card.toString()), role)
  const s = await DocumentSession.open(who, t.admin.docId)
  await t.relay.connect(s)
  await s.joined()
  return s
}

/** The admissions each rotation entry wraps its new epoch for, by rotation index. */
function wrapsOf(t: Team): Map<number, number[]> {
  const out = new Map<number, number[]>()
  const state = new MembershipState(t.admin.docId)
  for (const bytes of t.relay.chains.get(t.admin.docId)?.entries ?? []) {
    const e = state.append(bytes)
    if (e.body.kind !== 'rotate') continue
    const to = decodeParts(e.payload)
      .filter((p) => p.tag === PartTag.admissionWrap)
      .map((p) => p.to)
    out.set(e.index, to)
  }
  return out
}

describe('expired and revoked admissions (issue 12, item 3)', () => {
  it('an expired link receives no later epoch; admins list it and can revoke it', async () => {
    const t = await team()
    const live = await t.admin.createInviteLink({ role: Role.Viewer })
    const link = await t.admin.createInviteLink({ role: Role.Editor, expiresAt: nowSeconds() - 1 })
    const bo = await viaShare(t, t.bo, Role.Editor)
    void bo
    await t.admin.unshare(t.bo.userId)
    await t.admin.rotate()
    const secret = await t.admin.seal('update', text('after expiry'), 1)
    // Whoever holds the expired link gets only what the link carried when it was made.
    const eve = await viaLink(t, t.eve, link, false)
    expect(await codeOf(eve.joined())).toBe('invalid-state')
    expect(await codeOf(eve.open('update', secret))).toBe('unknown-epoch')
    // Rotations wrapped the live link only, as every member can check from the chain.
    const liveIndex = Number(live.split('.')[2])
    const linkIndex = Number(link.split('.')[2])
    const wraps = [...wrapsOf(t).values()]
    expect(wraps.length).toBe(2)
    for (const to of wraps) expect(to).toEqual([liveIndex])
    const listed = t.admin.invites().find((i) => i.admission === linkIndex)
    expect(listed?.expired).toBe(true)
    expect(t.admin.invites().find((i) => i.admission === liveIndex)?.expired).toBe(false)
    const epoch = t.admin.epoch
    await t.admin.revokeInvite(linkIndex)
    expect(t.admin.invites().some((i) => i.admission === linkIndex)).toBe(false)
    expect(t.admin.epoch).toBe(epoch + 1)
  })

  it('every rotation in the chain wraps exactly the admissions usable at its signed time', async () => {
    const t = await team()
    await t.admin.createInviteLink({ role: Role.Viewer, expiresAt: nowSeconds() - 5 })
    await t.admin.createInviteLink({ role: Role.Viewer, singleUse: true })
    await t.admin.createInviteLink({ role: Role.Viewer, expiresAt: nowSeconds() + 3600 })
    const revoked = await t.admin.createInviteLink({ role: Role.Viewer })
    await t.admin.rotate()
    await t.admin.revokeInvite(Number(revoked.split('.')[2]))
    const state = new MembershipState(t.admin.docId)
    let rotations = 0
    for (const bytes of t.relay.chains.get(t.admin.docId)?.entries ?? []) {
      const e = decodeEntry(bytes)
      if (e.body.kind === 'rotate') {
        rotations++
        const usable = state.admissions.filter((a) => admissionUsable(a, e.at)).map((a) => a.index)
        const wrapped = decodeParts(e.payload)
          .filter((p) => p.tag === PartTag.admissionWrap)
          .map((p) => p.to)
        expect(wrapped).toEqual(usable)
      }
      state.append(bytes)
    }
    expect(rotations).toBe(2)
  })
})

describe('removal reaches every way of joining (issue 12, item 4)', () => {
  for (const how of ['direct share', 'single-use link', 'multi-use link'] as const) {
    it(`a member who joined by ${how} reads nothing sealed after unshare`, async () => {
      const t = await team()
      const bo =
        how === 'direct share'
          ? await viaShare(t, t.bo, Role.Editor)
          : await viaLink(
              t,
              t.bo,
              await t.admin.createInviteLink({
                role: Role.Editor,
                singleUse: how === 'single-use link',
              }),
            )
      const before = await t.admin.seal('update', text('before'), 1)
      expect(str((await bo.open('update', before)).plaintext)).toBe('before')
      await t.admin.unshare(t.bo.userId)
      expect(bo.role).toBe(Role.None)
      const after = await t.admin.seal('update', text('after'), 2)
      expect(await codeOf(bo.open('update', after))).toBe('unknown-epoch')
      // Nothing Bo could hold is still open: every later rotation would skip him too.
      await t.admin.rotate()
      const later = await t.admin.seal('update', text('later'), 3)
      expect(await codeOf(bo.open('update', later))).toBe('unknown-epoch')
    })
  }

  it('others who joined through the same multi-use link stay members; the link is revoked', async () => {
    const t = await team()
    const link = await t.admin.createInviteLink({ role: Role.Editor })
    const bo = await viaLink(t, t.bo, link)
    const cy = await viaLink(t, t.cy, link)
    await t.admin.unshare(t.bo.userId)
    const after = await t.admin.seal('update', text('for the team'), 1)
    expect(str((await cy.open('update', after)).plaintext)).toBe('for the team')
    expect(await codeOf(bo.open('update', after))).toBe('unknown-epoch')
    expect(t.admin.invites()).toEqual([])
    const eve = await viaLink(t, t.eve, link, false)
    expect(await codeOf(eve.joined())).toBe('invalid-state')
    expect(await codeOf(eve.open('update', after))).toBe('unknown-epoch')
  })

  it('revokeInvite rotates: a holder of the link reads nothing sealed afterwards', async () => {
    const t = await team()
    const link = await t.admin.createInviteLink({ role: Role.Viewer })
    const cy = await viaLink(t, t.cy, link)
    await t.admin.revokeInvite(Number(link.split('.')[2]))
    expect(t.admin.epoch).toBe(1)
    const after = await t.admin.seal('update', text('after revoke'), 1)
    const eve = await viaLink(t, t.eve, link, false)
    expect(await codeOf(eve.open('update', after))).toBe('unknown-epoch')
    // Members who joined through it stay members and read on.
    expect(cy.role).toBe(Role.Viewer)
    expect(str((await cy.open('update', after)).plaintext)).toBe('after revoke')
  })

  it('a member who leaves takes no link with it: the owed rotation revokes it first', async () => {
    const t = await team()
    const link = await t.admin.createInviteLink({ role: Role.Editor })
    const bo = await viaLink(t, t.bo, link)
    await bo.leave()
    for (let i = 0; i < 500 && t.admin.epoch === 0; i++) await new Promise((r) => setTimeout(r, 10))
    expect(t.admin.epoch).toBe(1)
    const after = await t.admin.seal('update', text('after leaving'), 1)
    expect(await codeOf(bo.open('update', after))).toBe('unknown-epoch')
  })

  it('removing an admin revokes every invite it received the secret of', async () => {
    const t = await team()
    const bo = await viaShare(t, t.bo, Role.Admin)
    const link = await t.admin.createInviteLink({ role: Role.Viewer })
    await t.admin.unshare(t.bo.userId)
    const after = await t.admin.seal('update', text('after'), 1)
    expect(await codeOf(bo.open('update', after))).toBe('unknown-epoch')
    // Bo could have joined again under a new identity through the link: it is gone.
    const eve = await viaLink(t, t.eve, link, false)
    expect(await codeOf(eve.joined())).toBe('invalid-state')
    expect(await codeOf(eve.open('update', after))).toBe('unknown-epoch')
  })
})

/** A key store that forgets chain entries from `keep` on (a partly lost local copy). */
function forgetful(store: KeyStore, keep: number): KeyStore {
  return {
    get: async (key) => {
      const i = key[2] === 'chain' ? Number(key[3]) : -1
      return i >= keep ? undefined : store.get(key)
    },
    put: (key, value) => store.put(key, value),
  }
}

describe('chain rollback (issue 12, item 8)', () => {
  it('remembers the verified head across a reload and refuses a relay holding fewer entries', async () => {
    const store = memoryKeyStore()
    const t = await team({ keyStore: store })
    // A new document whose genesis the relay never confirmed is not a rollback.
    const fresh = await DocumentSession.create(t.anna, { keyStore: memoryKeyStore() })
    expect(() => fresh.membershipSynced(0)).not.toThrow()
    await viaShare(t, t.bo, Role.Editor)
    await t.admin.unshare(t.bo.userId)
    const n = t.admin.membershipLength()
    expect(() => t.admin.membershipSynced(n)).not.toThrow()
    for (const again of [
      await DocumentSession.open(t.anna, t.admin.docId, { keyStore: store }),
      // Even with entries lost locally, the stored head still says what was verified.
      await DocumentSession.open(t.anna, t.admin.docId, { keyStore: forgetful(store, 2) }),
    ]) {
      expect(await codeOf(() => again.membershipSynced(n - 2))).toBe('rollback-detected')
      expect(() => again.membershipSynced(n)).not.toThrow()
    }
  })

  it('after a rollback is seen, membership changes reject at once with a typed error', async () => {
    const t = await team()
    await viaShare(t, t.bo, Role.Editor)
    expect(await codeOf(() => t.admin.membershipSynced(1))).toBe('rollback-detected')
    const started = Date.now()
    expect(await codeOf(t.admin.share(t.cy.card, Role.Viewer))).toBe('rollback-detected')
    expect(await codeOf(t.admin.unshare(t.bo.userId))).toBe('rollback-detected')
    expect(await codeOf(t.admin.createInviteLink({ role: Role.Viewer }))).toBe('rollback-detected')
    expect(Date.now() - started).toBeLessThan(4000)
    // A relay that shows the whole verified chain again clears it.
    t.admin.membershipSynced(t.admin.membershipLength())
    await t.admin.createInviteLink({ role: Role.Viewer })
  })

  it('a different entry where one was verified is a fork, and blocks membership changes', async () => {
    const t = await team()
    const other = await team()
    await viaShare(other, other.bo, Role.Editor)
    const foreign = other.relay.chains.get(other.admin.docId)?.entries[1] as Uint8Array
    const n = t.admin.membershipLength()
    await t.admin.createInviteLink({ role: Role.Viewer })
    expect(await codeOf(t.admin.applyMembership(n, foreign))).toBe('fork-detected')
    expect(t.admin.membershipLength()).toBe(n + 1)
    expect(await codeOf(t.admin.createInviteLink({ role: Role.Viewer }))).toBe('fork-detected')
  })

  it('a relay that refuses an append and sends nothing newer does not hang the caller', async () => {
    const t = await team()
    // The relay lost the last entry but does not say so: it answers conflict and sends nothing.
    const chain = t.relay.chains.get(t.admin.docId)
    await t.admin.createInviteLink({ role: Role.Viewer })
    chain?.entries.pop()
    const started = Date.now()
    expect(await codeOf(t.admin.createInviteLink({ role: Role.Viewer }))).toBe('rollback-detected')
    expect(Date.now() - started).toBeLessThan(8000)
  }, 15_000)
})
