import { LocalRelay } from '@valv/test-utils'
import { describe, expect, it } from 'vitest'
import {
  CryptoError,
  DocumentSession,
  Identity,
  type KeyStore,
  PublicCard,
  Role,
} from '../src/index.js'

/** A key store whose raw contents the test can read and tamper with. */
function openStore(): KeyStore & { map: Map<string, Uint8Array> } {
  const map = new Map<string, Uint8Array>()
  return {
    map,
    get: async (key) => map.get(key.join('/'))?.slice(),
    put: async (key, value) => {
      map.set(key.join('/'), value.slice())
    },
  }
}

async function sharedDocument(store: KeyStore) {
  const relay = new LocalRelay()
  const anna = await Identity.create({ displayName: 'Anna' })
  const admin = await DocumentSession.create(anna, { keyStore: store })
  await relay.connect(admin)
  for (const name of ['Bo', 'Cy', 'Di']) {
    const who = await Identity.create({ displayName: name })
    await admin.share(PublicCard.parse(who.card.toString()), Role.Editor)
  }
  return { anna, admin }
}

const flipLast = (b: Uint8Array) => {
  const c = b.slice()
  c[c.length - 1] = (c[c.length - 1] as number) ^ 1
  return c
}

describe('device checkpoint of the verified chain', () => {
  it('a warm open restores the chain from the sealed checkpoint, not from the entries', async () => {
    const store = openStore()
    const { anna, admin } = await sharedDocument(store)
    const length = admin.membershipLength()
    // The first reopen verifies every entry and seals the checkpoint.
    const first = await DocumentSession.open(anna, admin.docId, { keyStore: store })
    expect(first.membershipLength()).toBe(length)
    const verified = `valv-keys/${admin.docId}/verified`
    expect(store.map.has(verified)).toBe(true)
    // Entries stored one by one are now damaged: a warm open does not read them.
    const last = `valv-keys/${admin.docId}/chain/${String(length - 1).padStart(10, '0')}`
    store.map.set(last, flipLast(store.map.get(last) as Uint8Array))
    const warm = await DocumentSession.open(anna, admin.docId, { keyStore: store })
    expect(warm.membershipLength()).toBe(length)
    expect(warm.members().map((m) => m.role)).toEqual(admin.members().map((m) => m.role))
    expect(warm.role).toBe(Role.Admin)
  })

  it('a checkpoint that does not open under the device key is ignored: every entry is verified', async () => {
    const store = openStore()
    const { anna, admin } = await sharedDocument(store)
    await DocumentSession.open(anna, admin.docId, { keyStore: store })
    const verified = `valv-keys/${admin.docId}/verified`
    store.map.set(verified, flipLast(store.map.get(verified) as Uint8Array))
    // Intact entries: the open falls back to full verification and succeeds.
    const again = await DocumentSession.open(anna, admin.docId, { keyStore: store })
    expect(again.membershipLength()).toBe(admin.membershipLength())
    // The reopen sealed a fresh checkpoint; forge it, and damage an entry: the forgery is
    // not believed, so the damaged entry is checked and refused.
    store.map.set(verified, flipLast(store.map.get(verified) as Uint8Array))
    const length = admin.membershipLength()
    const last = `valv-keys/${admin.docId}/chain/${String(length - 1).padStart(10, '0')}`
    store.map.set(last, flipLast(store.map.get(last) as Uint8Array))
    await expect(DocumentSession.open(anna, admin.docId, { keyStore: store })).rejects.toThrow(
      CryptoError,
    )
  })

  it("another device's checkpoint is not believed", async () => {
    const store = openStore()
    const { anna, admin } = await sharedDocument(store)
    const other = await Identity.create({ displayName: 'Mallory' })
    // Another device verifies the same chain and seals its own checkpoint; it is copied into
    // Anna's slot (the key store is not trusted: anyone with access to it may do that).
    const theirs = openStore()
    for (const [k, v] of store.map) if (k.includes('/chain/')) theirs.map.set(k, v)
    await DocumentSession.open(other, admin.docId, { keyStore: theirs })
    const verified = `valv-keys/${admin.docId}/verified`
    store.map.set(verified, theirs.map.get(verified) as Uint8Array)
    const length = admin.membershipLength()
    const last = `valv-keys/${admin.docId}/chain/${String(length - 1).padStart(10, '0')}`
    store.map.set(last, flipLast(store.map.get(last) as Uint8Array))
    // Anna's device cannot open it, so it checks every entry and refuses the damaged one.
    await expect(DocumentSession.open(anna, admin.docId, { keyStore: store })).rejects.toThrow(
      CryptoError,
    )
  })

  it('restores names and keys without the payloads; a checkpoint that disagrees with the verified head is a fork', async () => {
    const store = openStore()
    const { anna, admin } = await sharedDocument(store)
    await DocumentSession.open(anna, admin.docId, { keyStore: store })
    // Every stored entry damaged: names, invite notes and keys come from the checkpoint alone.
    for (const [k, v] of store.map) if (k.includes('/chain/')) store.map.set(k, flipLast(v))
    const warm = await DocumentSession.open(anna, admin.docId, { keyStore: store })
    expect(warm.members().map((m) => m.displayName)).toEqual(['Anna'])
    expect(warm.invites().map((i) => i.forUser)).toEqual(admin.invites().map((i) => i.forUser))
    expect(warm.invites().every((i) => i.forUser !== undefined)).toBe(true)
    expect(warm.canWrite()).toBe(true)
    // The public head says the newest entry hashes to something else: the checkpoint's chain
    // is not the one this device saw last, so the open refuses it.
    const head = `valv-keys/${admin.docId}/head`
    store.map.set(head, flipLast(store.map.get(head) as Uint8Array))
    await expect(
      DocumentSession.open(anna, admin.docId, { keyStore: store }),
    ).rejects.toMatchObject({ code: 'fork-detected' })
  })
})
