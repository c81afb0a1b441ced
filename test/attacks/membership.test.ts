/**
 * Attacks on membership: keys reaching people who should no longer get them (expired links,
 * removed members who joined by a link) and a relay rolling the membership chain back (issue 12,
 * items 3, 4 and 8). Real relay with `defaultVerifier()`, real sessions and providers.
 */
import type { Misbehaviour } from '@valv/core'
import {
  CryptoError,
  DocumentSession,
  Identity,
  memoryKeyStore,
  PublicCard,
  Role,
} from '@valv/crypto'
import type { WebsocketProvider } from '@valv/provider-websocket'
import { defaultVerifier, Relay } from '@valv/relay'
import type { StorageAdapter, StorageKey } from '@valv/storage'
import { MemoryStorageAdapter } from '@valv/storage-memory'
import {
  cleanup,
  connect,
  newProvider,
  onCleanup,
  type Stack,
  startStack,
  until,
} from '@valv/test-utils/stack'
import { afterEach, describe, expect, it } from 'vitest'

afterEach(cleanup)

const nowSeconds = () => Math.floor(Date.now() / 1000)
const text = (p: WebsocketProvider) => p.doc.getText('t').toString()
const people = (...names: string[]) =>
  Promise.all(names.map((displayName) => Identity.create({ displayName })))

/** The CryptoError code `p` rejects with, `'resolved'`, or `'hung'` after `ms`. */
async function outcome(p: Promise<unknown>, ms = 8000): Promise<string> {
  const timeout = new Promise<string>((r) => setTimeout(() => r('hung'), ms))
  const settled = p.then(
    () => 'resolved',
    (e) => (e instanceof CryptoError ? e.code : `untyped: ${String(e)}`),
  )
  return Promise.race([settled, timeout])
}

/** Share with `who` and let one device join over its own provider. */
async function member(
  s: Pick<Stack, 'connect'>,
  admin: DocumentSession,
  who: Identity,
  role: Role,
) {
  await admin.share(PublicCard.parse(who.card.toString()), role)
  const session = await DocumentSession.open(who, admin.docId)
  const provider = await s.connect(session)
  await session.joined()
  return { session, provider }
}

/** Join through an invite link over a provider (the link holder's own public API). */
async function viaLink(s: Stack, who: Identity, link: string) {
  const session = await DocumentSession.join(who, link)
  const provider = await s.connect(session)
  return { session, provider }
}

/** Every update envelope the relay stores for `docId`, read as a wire-level subscriber. */
async function storedEnvelopes(s: Stack, docId: string): Promise<Uint8Array[]> {
  const raw = await (await (await s.raw()).auth()).subscribe(docId)
  return raw.frames.flatMap((f) => (f.type === 'deliver' ? [f.envelope] : []))
}

/** The code `session.open` rejects the newest stored update with ('opened' if it opens). */
async function openNewest(s: Stack, session: DocumentSession): Promise<string> {
  const envelopes = await storedEnvelopes(s, session.docId)
  const newest = envelopes.at(-1) ?? expect.fail('no update stored')
  return outcome(session.open('update', newest).then(() => undefined)).then((o) =>
    o === 'resolved' ? 'opened' : o,
  )
}

/** Wait until every local edit of `p` is durable on the relay. */
const durable = (p: WebsocketProvider) => until(() => p.unsyncedChanges === 0, 10_000, 'ack')

describe('expired invites (item 3)', () => {
  it('an expired, never-used multi-use link gets no key from later removals; the admin lists and revokes it', async () => {
    const s = await startStack()
    const [anna, bo, cy, eve] = (await people('Anna', 'Bo', 'Cy', 'Eve')) as Identity[]
    const admin = await DocumentSession.create(anna as Identity)
    const pa = await s.connect(admin)
    await member(s, admin, bo as Identity, Role.Editor)
    await member(s, admin, cy as Identity, Role.Editor)
    const expiresAt = nowSeconds() + 1
    const link = await admin.createInviteLink({ role: Role.Editor, expiresAt })
    const admission = Number(link.split('.')[2])
    await until(() => nowSeconds() > expiresAt, 5000, 'expiry')
    // Two removals after the expiry, each rotating the content key.
    await admin.unshare((bo as Identity).userId)
    await admin.unshare((cy as Identity).userId)
    expect(admin.epoch).toBe(2)
    pa.doc.getText('t').insert(0, 'written after two removals')
    await durable(pa)

    // Eve found the old link. She opens the document with it, as the link holder's app would.
    const e = await viaLink(s, eve as Identity, link)
    await expect(e.session.joined()).rejects.toThrow()
    expect(text(e.provider)).toBe('')
    expect(await openNewest(s, e.session)).toBe('unknown-epoch')

    // The admin sees the expired link (it could still hold keys from before) and revokes it.
    const listed = admin.invites().find((i) => i.admission === admission)
    expect(listed?.expired).toBe(true)
    await admin.revokeInvite(admission)
    expect(admin.invites().some((i) => i.admission === admission)).toBe(false)
    expect(admin.epoch).toBe(3)
  })
})

describe('removal of link-joined members (item 4)', () => {
  it('a member who joined by a multi-use link and was unshared reads nothing written afterwards', async () => {
    const s = await startStack()
    const [anna, bo, cy] = (await people('Anna', 'Bo', 'Cy')) as Identity[]
    const admin = await DocumentSession.create(anna as Identity)
    const pa = await s.connect(admin)
    const link = await admin.createInviteLink({ role: Role.Editor })
    const b = await viaLink(s, bo as Identity, link)
    await b.session.joined()
    const c = await viaLink(s, cy as Identity, link)
    await c.session.joined()
    pa.doc.getText('t').insert(0, 'before')
    await until(() => text(b.provider) === 'before', 10_000, 'Bo reads')

    await admin.unshare((bo as Identity).userId)
    expect(b.session.role).toBe(Role.None)
    pa.doc.getText('t').insert(6, ' after')
    await durable(pa)
    // Cy, who joined through the same link, stays a member and reads on.
    await until(() => text(c.provider) === 'before after', 10_000, 'Cy reads')
    // Bo's retained session is still subscribed and receives the update, but cannot open it.
    await until(() => b.provider.binding.lastSeq >= pa.binding.lastSeq, 10_000, 'Bo receives')
    expect(text(b.provider)).toBe('before')
    expect(await openNewest(s, b.session)).toBe('unknown-epoch')
    // The link he held is revoked: nobody joins through it any more.
    expect(admin.invites()).toEqual([])
  })

  it('revokeInvite rotates: a holder of the link reads nothing sealed afterwards', async () => {
    const s = await startStack()
    const [anna, cy, eve] = (await people('Anna', 'Cy', 'Eve')) as Identity[]
    const admin = await DocumentSession.create(anna as Identity)
    const pa = await s.connect(admin)
    const link = await admin.createInviteLink({ role: Role.Viewer })
    const c = await viaLink(s, cy as Identity, link)
    await c.session.joined()
    await admin.revokeInvite(Number(link.split('.')[2]))
    expect(admin.epoch).toBe(1)
    pa.doc.getText('t').insert(0, 'after the revocation')
    await durable(pa)
    await until(() => text(c.provider) === 'after the revocation', 10_000, 'Cy reads')
    const e = await viaLink(s, eve as Identity, link)
    await expect(e.session.joined()).rejects.toThrow()
    expect(text(e.provider)).toBe('')
    expect(await openNewest(s, e.session)).toBe('unknown-epoch')
  })
})

/** Copy every value and blob of `from` into a fresh memory adapter (a backup). */
async function backup(from: StorageAdapter): Promise<MemoryStorageAdapter> {
  const to = new MemoryStorageAdapter()
  const walk = async (prefix: StorageKey): Promise<void> => {
    for await (const name of from.listChildren(prefix)) {
      const key = [...prefix, name]
      const value = await from.get(key)
      if (value !== undefined) await to.put(key, value)
      const blob = await from.getStream(key)
      if (blob !== undefined) await to.putStream(key, blob)
      await walk(key)
    }
  }
  await walk([])
  return to
}

/** The real relay on `port` (0 = any) over `storage`. */
async function relayOn(storage: StorageAdapter, port = 0) {
  const relay = new Relay({ storage, verifier: defaultVerifier() })
  const address = await relay.listen(port, '127.0.0.1')
  onCleanup(() => relay.close())
  return { relay, port: address.port, url: `ws://127.0.0.1:${address.port}` }
}

/** A provider that records misbehaviour from its first frame on. */
async function watched(url: string, session: DocumentSession) {
  const seen: Misbehaviour[] = []
  const p = newProvider(url, session, {
    batch: { windowMs: 5 },
    backoff: { minMs: 20, maxMs: 200 },
    connect: false,
  })
  onCleanup(() => p.destroy())
  p.on('misbehaviour', (m) => seen.push(m))
  p.connect()
  await session.attach(p)
  return { provider: p, seen }
}

const chainRollback = (m: Misbehaviour) => m.kind === 'rollback' && /membership/.test(m.message)

describe('membership chain rollback (item 8)', () => {
  it('a relay restored from a backup taken before a removal is reported, refused, and share() does not hang', async () => {
    const storage = new MemoryStorageAdapter()
    const first = await relayOn(storage)
    const [anna, bo, cy] = (await people('Anna', 'Bo', 'Cy')) as Identity[]
    const keyStore = memoryKeyStore()
    const admin = await DocumentSession.create(anna as Identity, { keyStore })
    const a = await watched(first.url, admin)
    const s = { connect: (d: DocumentSession) => connect(first.url, d) }
    const b = await member(s, admin, bo as Identity, Role.Editor)
    a.provider.doc.getText('t').insert(0, 'hej')
    await until(() => text(b.provider) === 'hej', 10_000, 'Bo reads')
    const saved = await backup(storage)

    // Bo goes offline; the admin removes him; then the operator restores last night's backup.
    await b.provider.destroy()
    await admin.unshare((bo as Identity).userId)
    const verified = admin.membershipLength()
    await first.relay.close()
    const restored = await relayOn(saved, first.port)

    // The admin's provider reconnects by itself: it reports the rollback and keeps its chain.
    await until(() => a.seen.some(chainRollback), 10_000, 'rollback reported')
    expect(admin.membershipLength()).toBe(verified)
    const boIndex = b.session.myIndex as number
    expect(admin.members().find((m) => m.index === boIndex)?.role).toBe(Role.None)
    // Membership changes reject with a typed error instead of waiting for an entry never sent.
    expect(await outcome(admin.share((cy as Identity).card, Role.Viewer))).toBe('rollback-detected')

    // Bo, who never saw his removal, writes through the restored relay. The relay acks (it
    // cannot know about the entries it lost); the admin refuses the edit against its chain.
    const rejected: unknown[] = []
    a.provider.binding.on('rejected', (r) => rejected.push(r.error))
    const back = await connect(restored.url, b.session)
    back.doc.getText('t').insert(0, 'Bo after removal: ')
    await durable(back)
    await until(() => rejected.length > 0, 10_000, 'admin refuses Bo')
    expect((rejected[0] as CryptoError).code).toBe('not-authorised')
    expect(text(a.provider)).toBe('hej')

    // The verified head survives a reload of the admin's device.
    const reloaded = await DocumentSession.open(anna as Identity, admin.docId, { keyStore })
    const r = await watched(restored.url, reloaded)
    await until(() => r.seen.some(chainRollback), 10_000, 'rollback after reload')
    expect(await outcome(reloaded.share((cy as Identity).card, Role.Viewer))).toBe(
      'rollback-detected',
    )
  })
})
