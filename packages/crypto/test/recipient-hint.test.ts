import { ed25519 } from '@noble/curves/ed25519.js'
import { decodeEntry, equalBytes } from '@valv/protocol'
import { LocalRelay } from '@valv/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { secretsOf } from '../src/identity.js'
import { DocumentSession, Identity, memoryKeyStore, PublicCard, Role } from '../src/index.js'
import { decodeParts, PartTag } from '../src/payload.js'
import { HINT_LENGTH, hintKey, recipientHint } from '../src/recipient-hint.js'

// Count the hybrid boxes sessions open: the point of the hint is that they open only theirs.
const opened = vi.hoisted(() => ({ count: 0 }))
vi.mock('../src/primitives/hybrid-box.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/primitives/hybrid-box.js')>()
  return {
    ...real,
    openKemBox: (...args: Parameters<typeof real.openKemBox>) => {
      opened.count++
      return real.openKemBox(...args)
    },
  }
})

describe('recipient hints on invitee boxes (membership version 3)', () => {
  it('a hint is the same from both sides and tells nothing to whoever holds only the card', async () => {
    const admin = ed25519.utils.randomSecretKey()
    const bo = await Identity.create({ displayName: 'Bo' })
    const boSecret = secretsOf(bo).deviceSecret
    const docId = 'doc-for-hints'
    const signerSide = hintKey(admin, bo.device.deviceKey) as Uint8Array
    const deviceSide = hintKey(boSecret, ed25519.getPublicKey(admin)) as Uint8Array
    expect(equalBytes(signerSide, deviceSide)).toBe(true)
    const hint = recipientHint(signerSide, docId, 5, PartTag.inviteeBox)
    expect(hint.length).toBe(HINT_LENGTH)
    // Someone with the card but neither secret derives another key, so another hint.
    const stranger = hintKey(ed25519.utils.randomSecretKey(), bo.device.deviceKey) as Uint8Array
    expect(equalBytes(recipientHint(stranger, docId, 5, PartTag.inviteeBox), hint)).toBe(false)
    // Hints of one device differ per entry and per document (no linking of two admissions).
    expect(equalBytes(recipientHint(signerSide, docId, 6, PartTag.inviteeBox), hint)).toBe(false)
    expect(equalBytes(recipientHint(signerSide, 'other', 5, PartTag.inviteeBox), hint)).toBe(false)
    // A key that is not a valid point gives no hint key instead of throwing.
    expect(hintKey(admin, new Uint8Array(32).fill(0xff))).toBeUndefined()
  })

  it('an invited device finds its box by its hint; another device opens none', async () => {
    const relay = new LocalRelay()
    const anna = await Identity.create({ displayName: 'Anna' })
    const admin = await DocumentSession.create(anna, { keyStore: memoryKeyStore() })
    await relay.connect(admin)
    for (let i = 0; i < 6; i++) {
      const who = await Identity.create()
      await admin.share(PublicCard.parse(who.card.toString()), Role.Editor)
    }
    const bo = await Identity.create({ displayName: 'Bo' })
    await admin.share(PublicCard.parse(bo.card.toString()), Role.Editor)
    const chain = relay.chains.get(admin.docId)?.entries ?? []
    const admits = chain.map((b) => decodeEntry(b)).filter((e) => e.body.kind === 'admit')
    expect(admits.length).toBe(7)
    for (const e of admits) expect(e.version).toBe(3)
    // Bo's box is the last admit's, and only there does Bo's hint match.
    const boKeys = admits.map((e) => {
      const part = decodeParts(e.payload).find((p) => p.tag === PartTag.inviteeBox)
      const k = hintKey(secretsOf(bo).deviceSecret, e.signer) as Uint8Array
      const want = recipientHint(k, admin.docId, e.index, PartTag.inviteeBox)
      return part !== undefined && equalBytes(part.data.subarray(0, HINT_LENGTH), want)
    })
    expect(boKeys).toEqual([false, false, false, false, false, false, true])

    // A device nobody invited reads the whole chain and opens no box at all.
    const outsider = await Identity.create({ displayName: 'Eve' })
    opened.count = 0
    const eve = await DocumentSession.open(outsider, admin.docId, { keyStore: memoryKeyStore() })
    await relay.connect(eve)
    expect(opened.count).toBe(0)
    await expect(eve.joined()).rejects.toMatchObject({ code: 'invalid-state' })

    // Bo opens its own invitee box and, after joining, its own self box: two of the chain's
    // seven invitee boxes and seven admin boxes.
    opened.count = 0
    const joiner = await DocumentSession.open(bo, admin.docId, { keyStore: memoryKeyStore() })
    await relay.connect(joiner)
    await joiner.joined()
    expect(joiner.role).toBe(Role.Editor)
    expect(opened.count).toBeGreaterThan(0)
    expect(opened.count).toBeLessThanOrEqual(2)
    expect(joiner.members().find((m) => m.self)?.displayName).toBe('Bo')
    expect(joiner.members()[0]?.displayName).toBe('Anna')
  })
})
