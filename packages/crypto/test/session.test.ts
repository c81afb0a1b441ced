import { LocalRelay } from '@valv/test-utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CryptoError,
  DocumentSession,
  encryptedBlobSize,
  Identity,
  memoryKeyStore,
  PublicCard,
  padmeLength,
  RecoveryKey,
  Role,
} from '../src/index.js'
import { codeOf } from './code-of.js'

const text = (s: string) => new TextEncoder().encode(s)
const str = (b: Uint8Array) => new TextDecoder().decode(b)

async function team(options: Parameters<typeof DocumentSession.create>[1] = {}) {
  const relay = new LocalRelay()
  const anna = await Identity.create({ displayName: 'Anna' })
  const bo = await Identity.create({ displayName: 'Bo' })
  const cy = await Identity.create({ displayName: 'Cy' })
  const admin = await DocumentSession.create(anna, options)
  await relay.connect(admin)
  return { relay, anna, bo, cy, admin }
}

async function member(t: Awaited<ReturnType<typeof team>>, who: Identity, role: Role) {
  await t.admin.share(PublicCard.parse(who.card.toString()), role)
  const s = await DocumentSession.open(who, t.admin.docId)
  await t.relay.connect(s)
  await s.joined()
  return s
}

describe('DocumentSession', () => {
  it('seals and opens; the relay-visible overhead stays under 120 bytes', async () => {
    const t = await team({ padding: 'none' })
    const sealed = await t.admin.seal('update', text('hello'), 1)
    expect(sealed.length - 5).toBeLessThan(120)
    const opened = await t.admin.open('update', sealed)
    expect(str(opened.plaintext)).toBe('hello')
    expect(opened.author).toBe(t.admin.author)
    expect(opened.counter).toBe(1)
  })

  it('shares with a role: an editor reads and writes, a viewer only reads', async () => {
    const t = await team()
    const bo = await member(t, t.bo, Role.Editor)
    const cy = await member(t, t.cy, Role.Viewer)
    expect(bo.role).toBe(Role.Editor)
    expect(cy.role).toBe(Role.Viewer)
    expect(cy.canWrite()).toBe(false)
    const fromAdmin = await t.admin.seal('update', text('from anna'), 1)
    expect(str((await cy.open('update', fromAdmin)).plaintext)).toBe('from anna')
    const fromBo = await bo.seal('update', text('from bo'), 1)
    expect(str((await t.admin.open('update', fromBo)).plaintext)).toBe('from bo')
    // A viewer can still produce bytes, but every honest reader rejects them.
    const fromCy = await cy.seal('update', text('sneaky'), 1)
    expect(await codeOf(t.admin.open('update', fromCy))).toBe('not-authorised')
    expect(t.admin.members().map((m) => m.displayName)).toEqual(['Anna', 'Bo', 'Cy'])
  })

  it('a removed member cannot read anything sealed after the removal', async () => {
    const t = await team()
    const bo = await member(t, t.bo, Role.Editor)
    const cy = await member(t, t.cy, Role.Editor)
    const before = await t.admin.seal('update', text('old'), 1)
    await t.admin.unshare(t.bo.userId)
    expect(t.admin.epoch).toBe(1)
    expect(bo.role).toBe(Role.None)
    const after = await t.admin.seal('update', text('new'), 2)
    expect(await codeOf(bo.open('update', after))).toBe('unknown-epoch')
    expect(str((await cy.open('update', after)).plaintext)).toBe('new')
    expect(str((await bo.open('update', before)).plaintext)).toBe('old')
    // Bo's writes are refused from now on.
    expect(bo.canWrite()).toBe(false)
  })

  it('invite links: single-use, role-bound, revocable', async () => {
    const t = await team()
    const link = await t.admin.createInviteLink({ role: Role.Viewer, singleUse: true })
    expect(link.startsWith('#valv-invite1.')).toBe(true)
    const bo = await DocumentSession.join(t.bo, `https://portal.example/d${link}`)
    await t.relay.connect(bo)
    await bo.joined()
    expect(bo.role).toBe(Role.Viewer)
    const cy = await DocumentSession.join(t.cy, link)
    await t.relay.connect(cy)
    expect(cy.role).toBe(Role.None)
    expect(await codeOf(cy.joined())).toBe('invalid-state')
    const multi = await t.admin.createInviteLink({ role: Role.Editor })
    expect(t.admin.invites().length).toBe(1)
    await t.admin.revokeInvite(t.admin.invites()[0]?.admission as number)
    const late = await DocumentSession.join(t.cy, multi)
    await t.relay.connect(late)
    expect(late.role).toBe(Role.None)
  })

  it('an invite created before a rotation still delivers the new epoch', async () => {
    const t = await team()
    const link = await t.admin.createInviteLink({ role: Role.Editor })
    await t.admin.rotate()
    const bo = await DocumentSession.join(t.bo, link)
    await t.relay.connect(bo)
    await bo.joined()
    const sealed = await t.admin.seal('update', text('epoch one'), 1)
    expect(str((await bo.open('update', sealed)).plaintext)).toBe('epoch one')
  })

  it('need-to-know documents: newcomers see members but not earlier epochs', async () => {
    const t = await team({ historyPolicy: 'need-to-know' })
    const old = await t.admin.seal('update', text('before'), 1)
    await t.admin.rotate()
    const bo = await member(t, t.bo, Role.Viewer)
    expect(await codeOf(bo.open('update', old))).toBe('unknown-epoch')
    expect(bo.members().map((m) => m.displayName)).toEqual(['Anna', 'Bo'])
    const shared = await member(await team(), t.cy, Role.Viewer)
    void shared
  })

  it('the recovery key opens every epoch', async () => {
    const recovery = RecoveryKey.generate()
    const t = await team({ recovery: recovery.publicKey })
    await member(t, t.bo, Role.Editor)
    const sealed = [await t.admin.seal('update', text('e0'), 1)]
    await t.admin.unshare(t.bo.userId)
    sealed.push(await t.admin.seal('update', text('e1'), 2))
    await t.admin.rotate()
    sealed.push(await t.admin.seal('update', text('e2'), 3))
    const org = await DocumentSession.recover(RecoveryKey.import(recovery.export()), t.admin.docId)
    await t.relay.connect(org)
    const opened = await Promise.all(sealed.map((s) => org.open('update', s)))
    expect(opened.map((o) => str(o.plaintext))).toEqual(['e0', 'e1', 'e2'])
    expect(await codeOf(org.seal('update', text('x'), 1))).toBe('invalid-state')
  })

  it('reopens offline from the key store', async () => {
    const store = memoryKeyStore()
    const t = await team({ keyStore: store })
    await t.admin.rotate()
    const sealed = await t.admin.seal('update', text('kept'), 1)
    const again = await DocumentSession.open(t.anna, t.admin.docId, { keyStore: store })
    expect(again.role).toBe(Role.Admin)
    expect(again.epoch).toBe(1)
    expect(str((await again.open('update', sealed)).plaintext)).toBe('kept')
  })

  it('concurrent admin changes: the loser rebuilds on the new head', async () => {
    const t = await team()
    const bo = await member(t, t.bo, Role.Admin)
    await Promise.all([
      t.admin.createInviteLink({ role: Role.Viewer }),
      bo.createInviteLink({ role: Role.Viewer }),
    ])
    expect(t.admin.invites().length).toBe(2)
    expect(bo.membershipLength()).toBe(t.admin.membershipLength())
  })

  it('rejects any tampering with a sealed envelope (property)', async () => {
    const t = await team()
    const good = await t.admin.seal('update', text('integrity'), 9)
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 0, max: 7 }), async (pos, bit) => {
        const bad = good.map((x, i) => (i === pos % good.length ? x ^ (1 << bit) : x))
        await expect(t.admin.open('update', bad)).rejects.toBeInstanceOf(CryptoError)
      }),
      { numRuns: 200 },
    )
    expect(await codeOf(t.admin.open('snapshot', good))).toBe('malformed')
  })
})

describe('Identity', () => {
  it('exports and imports with a passphrase; a wrong passphrase is refused', async () => {
    const me = await Identity.create({ displayName: 'Åsa Öberg' })
    const backup = await me.export('rätt häst', { N: 2 ** 10 })
    const again = await Identity.import(backup, 'rätt häst')
    expect(again.userId).toBe(me.userId)
    expect(again.card.toString()).toBe(me.card.toString())
    expect(await codeOf(Identity.import(backup, 'fel'))).toBe('bad-passphrase')
  })

  it('cards verify: a changed card is refused', async () => {
    const me = await Identity.create({ displayName: 'Anna' })
    const phone = await me.addDevice()
    expect(me.card.devices.length).toBe(2)
    expect(phone.userId).toBe(me.userId)
    const bytes = me.card.toBytes()
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1
    expect(() => PublicCard.fromBytes(bytes)).toThrow(CryptoError)
  })
})

describe('files', () => {
  it('encrypts a file as a stream for members; ids are keyed, not plain hashes', async () => {
    const t = await team()
    const bo = await member(t, t.bo, Role.Viewer)
    const plain = new Uint8Array(300_000).map((_, i) => i % 251)
    const { blobId, key, stream } = t.admin.encryptFile()
    expect(blobId).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const sealed = new Uint8Array(
      await new Response(new Blob([plain]).stream().pipeThrough(stream)).arrayBuffer(),
    )
    expect(Buffer.from(sealed).includes(Buffer.from(plain.subarray(1000, 1100)))).toBe(false)
    const back = new Uint8Array(
      await new Response(
        new Blob([sealed]).stream().pipeThrough(bo.decryptFile(key)),
      ).arrayBuffer(),
    )
    expect(Buffer.from(back).equals(Buffer.from(plain))).toBe(true)
    expect(t.admin.encryptFile().blobId).not.toBe(blobId)
  })
})

describe('history after removal', () => {
  it("a removed writer's earlier content stays readable, for members and recovery", async () => {
    const recovery = RecoveryKey.generate()
    const t = await team({ recovery: recovery.publicKey })
    const bo = await member(t, t.bo, Role.Editor)
    const earlier = await bo.seal('update', text('written by Bo'), 1)
    // The admin has received it (as its provider would) before removing Bo: the removal records
    // Bo's highest counter, so this stays valid and anything later is refused.
    await t.admin.open('update', earlier)
    // Bo is offline, so his client still thinks he is an editor in epoch 0 when he writes again.
    t.relay.offline.add(bo)
    await t.admin.unshare(t.bo.userId)
    const later = await bo.seal('update', text('after removal'), 2)
    expect(await codeOf(t.admin.open('update', later))).toBe('not-authorised')
    expect(str((await t.admin.open('update', earlier)).plaintext)).toBe('written by Bo')
    const org = await DocumentSession.recover(recovery, t.admin.docId)
    await t.relay.connect(org)
    expect(str((await org.open('update', earlier)).plaintext)).toBe('written by Bo')
    // Bo still holds epoch 0, but anything he seals in it now is refused by the relay (strict
    // current-role check); see the threat model for what a colluding relay could still inject.
    const { MembershipState, verifyEnvelope } = await import('@valv/protocol')
    const relayView = new MembershipState(t.admin.docId)
    for (const e of t.relay.chains.get(t.admin.docId)?.entries ?? []) relayView.append(e)
    expect(() => verifyEnvelope(relayView, earlier, { kind: 'update' })).toThrow(CryptoError)
  })

  it('a removed user can be shared with again and reads the current epoch', async () => {
    const t = await team()
    const bo = await member(t, t.bo, Role.Editor)
    await t.admin.unshare(t.bo.userId)
    await expect(bo.joined()).rejects.toBeInstanceOf(CryptoError)
    await t.admin.share(t.bo.card, Role.Viewer)
    expect(bo.role).toBe(Role.Viewer)
    await bo.joined()
    const sealed = await t.admin.seal('update', text('welcome back'), 5)
    expect(str((await bo.open('update', sealed)).plaintext)).toBe('welcome back')
  })
})

describe('padded files', () => {
  it('pads a file of known size to a PADMÉ length and restores it exactly', async () => {
    const t = await team()
    for (const size of [0, 1, 1000, 200_001]) {
      const plain = new Uint8Array(size).map((_, i) => (i * 7) % 256)
      const { key, stream } = t.admin.encryptFile({ size })
      const sealed = new Uint8Array(
        await new Response(new Blob([plain]).stream().pipeThrough(stream)).arrayBuffer(),
      )
      const unpadded = t.admin.encryptFile()
      const plainSealed = new Uint8Array(
        await new Response(new Blob([plain]).stream().pipeThrough(unpadded.stream)).arrayBuffer(),
      )
      expect(sealed.length).toBeGreaterThanOrEqual(plainSealed.length + 8)
      expect(sealed.length).toBe(encryptedBlobSize(padmeLength(size + 8)))
      const back = new Uint8Array(
        await new Response(
          new Blob([sealed]).stream().pipeThrough(t.admin.decryptFile(key)),
        ).arrayBuffer(),
      )
      expect(Buffer.from(back).equals(Buffer.from(plain))).toBe(true)
    }
    // A stated size that does not match the content is refused, not silently cut.
    const { stream } = t.admin.encryptFile({ size: 10 })
    await expect(
      new Response(new Blob([new Uint8Array(11)]).stream().pipeThrough(stream)).arrayBuffer(),
    ).rejects.toBeInstanceOf(CryptoError)
  })
})

describe('several devices per person', () => {
  it('every certified device joins; a lost device is removed without locking out the others', async () => {
    const t = await team()
    const phone = await t.bo.addDevice()
    expect(t.bo.card.devices.length).toBe(2)
    await t.admin.share(PublicCard.parse(t.bo.card.toString()), Role.Editor)
    const laptop = await DocumentSession.open(t.bo, t.admin.docId)
    const mobile = await DocumentSession.open(phone, t.admin.docId)
    for (const s of [laptop, mobile]) {
      await t.relay.connect(s)
      await s.joined()
      expect(s.role).toBe(Role.Editor)
    }
    expect(laptop.author).not.toBe(mobile.author)
    expect(new Set(t.admin.members().map((m) => m.userId)).size).toBe(2)
    await t.admin.removeDevice(phone.deviceId)
    const sealed = await t.admin.seal('update', text('after the phone was lost'), 1)
    expect(await codeOf(mobile.open('update', sealed))).toBe('unknown-epoch')
    expect(str((await laptop.open('update', sealed)).plaintext)).toBe('after the phone was lost')
    t.bo.revokeDevice(phone.deviceId)
    expect(t.bo.card.devices.length).toBe(1)
  })
})
