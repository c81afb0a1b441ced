import { ed25519 } from '@noble/curves/ed25519.js'
import {
  CounterWindow,
  decodeEnvelope,
  domainMessage,
  type EnvelopeHeader,
  ed25519Signer,
  encodeEnvelopeBody,
  encodeEnvelopeHeader,
  joinSignature,
  MembershipState,
  toHex,
  utf8,
  verifyEnvelope,
} from '@valv/protocol'
import { LocalRelay } from '@valv/test-utils'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { documentSigningSecret } from '../src/identity.js'
import {
  CryptoError,
  DocumentSession,
  Identity,
  PublicCard,
  RecoveryKey,
  Role,
} from '../src/index.js'

const text = (s: string) => new TextEncoder().encode(s)
const str = (b: Uint8Array) => new TextDecoder().decode(b)
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms))

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    expect(err).toBeInstanceOf(CryptoError)
    return (err as CryptoError).code
  }
  return 'accepted'
}

type Op =
  | { readonly t: 'share'; readonly who: number; readonly role: Role }
  | { readonly t: 'invite'; readonly who: number; readonly role: Role; readonly multi: boolean }
  | { readonly t: 'unshare'; readonly who: number }
  | { readonly t: 'rotate' }

const USERS = 3
const who = fc.nat({ max: USERS - 1 })
const role = fc.constantFrom(Role.Viewer, Role.Commenter, Role.Editor, Role.Admin)
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('share' as const), who, role }),
  fc.record({ t: fc.constant('invite' as const), who, role, multi: fc.boolean() }),
  fc.record({ t: fc.constant('unshare' as const), who }),
  fc.record({ t: fc.constant('rotate' as const) }),
)

/** Identities are reused across runs: each run is a new document, so new per-document keys. */
let anna: Identity
let users: Identity[]
const recovery = RecoveryKey.generate()

beforeAll(async () => {
  anna = await Identity.create({ displayName: 'Anna' })
  users = await Promise.all(
    ['Bo', 'Cy', 'Dag'].map((displayName) => Identity.create({ displayName })),
  )
})

/** One document and everyone's session, driven by a random op sequence. */
class World {
  readonly relay = new LocalRelay()
  readonly sessions = new Map<number, DocumentSession>()
  readonly status: Array<'out' | 'member' | 'removed'> = Array(USERS).fill('out')
  /** Admin envelopes, one per step, for the recovery check. */
  readonly probes: Array<[string, Uint8Array]> = []
  private counter = 0

  constructor(readonly admin: DocumentSession) {}

  static async create(): Promise<World> {
    const w = new World(await DocumentSession.create(anna, { recovery: recovery.publicKey }))
    await w.relay.connect(w.admin)
    return w
  }

  /** Everyone caught up with the relay and no rotation in flight (other admins rotate too). */
  async settle(): Promise<void> {
    const length = () => this.relay.chains.get(this.admin.docId)?.entries.length ?? 0
    for (let i = 0; i < 200; i++) {
      const all = [this.admin, ...this.sessions.values()]
      if (all.every((s) => s.membershipLength() === length() && !s.rotationOwed)) return
      await sleep(5)
    }
    throw new Error('sessions did not settle')
  }

  /** Pick the user an op applies to (the requested one if eligible), or undefined: a no-op. */
  private pick(wanted: number, state: 'out' | 'member'): number | undefined {
    if (this.status[wanted] === state) return wanted
    const i = this.status.indexOf(state)
    return i < 0 ? undefined : i
  }

  async apply(o: Op): Promise<void> {
    if (o.t === 'rotate') return this.admin.rotate()
    if (o.t === 'unshare') {
      const i = this.pick(o.who, 'member')
      if (i === undefined) return
      const target = this.sessions.get(i) as DocumentSession
      // Signed by the target while still a member: after the removal nobody may accept it.
      const late = await target.seal('update', text('late'), 1_000_000)
      await this.admin.unshare((users[i] as Identity).userId)
      this.status[i] = 'removed'
      await this.settle()
      for (const s of [this.admin, ...this.members()].filter((s) => s !== target)) {
        expect(await codeOf(s.open('update', late))).toBe('not-authorised')
      }
      return
    }
    const i = this.pick(o.who, 'out')
    if (i === undefined) return
    const me = users[i] as Identity
    let session: DocumentSession
    if (o.t === 'share') {
      await this.admin.share(PublicCard.parse(me.card.toString()), o.role)
      session = await DocumentSession.open(me, this.admin.docId)
    } else {
      // A multi-use link stays usable after the join: removal must still reach its holder.
      const link = await this.admin.createInviteLink({ role: o.role, singleUse: !o.multi })
      session = await DocumentSession.join(me, link)
    }
    await this.relay.connect(session)
    await session.joined()
    expect(session.role).toBe(o.role)
    this.sessions.set(i, session)
    this.status[i] = 'member'
  }

  members(): DocumentSession[] {
    return [...this.sessions].filter(([i]) => this.status[i] === 'member').map(([, s]) => s)
  }

  removed(): DocumentSession[] {
    return [...this.sessions].filter(([i]) => this.status[i] === 'removed').map(([, s]) => s)
  }

  /** The invariants after every step. */
  async check(step: number): Promise<void> {
    await this.settle()
    const view = (s: DocumentSession) =>
      s.members().map((m) => [m.index, m.role, m.userId, m.displayName])
    const roles = (s: DocumentSession) => s.members().map((m) => [m.index, m.role])
    const probe = `probe ${step}`
    const sealed = await this.admin.seal('update', text(probe), ++this.counter)
    this.probes.push([probe, sealed])
    for (const s of this.members()) {
      expect(s.epoch).toBe(this.admin.epoch)
      expect(view(s)).toEqual(view(this.admin))
      expect(str((await s.open('update', sealed)).plaintext)).toBe(probe)
      const write = await s.seal('update', text('w'), ++this.counter)
      const want = s.role >= Role.Editor ? 'accepted' : 'not-authorised'
      for (const other of [this.admin, ...this.members()].filter((x) => x !== s)) {
        expect(await codeOf(other.open('update', write))).toBe(want)
      }
    }
    for (const s of this.removed()) {
      expect(s.role).toBe(Role.None)
      expect(s.epoch).toBe(this.admin.epoch)
      expect(roles(s)).toEqual(roles(this.admin))
      expect(['unknown-epoch', 'not-authorised']).toContain(await codeOf(s.open('update', sealed)))
    }
  }
}

describe('membership properties', () => {
  it('share, unshare, rotate and invite-join keep every view consistent; removal locks out; recovery opens every epoch', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 2, maxLength: 6 }), async (ops) => {
        const w = await World.create()
        for (const [step, o] of ops.entries()) {
          await w.apply(o)
          await w.check(step)
        }
        const org = await DocumentSession.recover(
          RecoveryKey.import(recovery.export()),
          w.admin.docId,
        )
        await w.relay.connect(org)
        for (const [probe, sealed] of w.probes) {
          expect(str((await org.open('update', sealed)).plaintext)).toBe(probe)
        }
        expect(await codeOf(org.seal('update', text('x'), 1))).toBe('invalid-state')
      }),
      { numRuns: 15 },
    )
  }, 240_000)
})

describe('chain properties', () => {
  it('a relay cannot reorder or drop membership entries, nor swap in a fork', async () => {
    const w = await World.create()
    for (const o of [
      { t: 'share', who: 0, role: Role.Editor },
      { t: 'invite', who: 1, role: Role.Viewer, multi: false },
      { t: 'unshare', who: 0 },
    ] as const) {
      await w.apply(o)
    }
    const chain = w.relay.chains.get(w.admin.docId)?.entries ?? []
    expect(chain.length).toBeGreaterThan(5)
    const replay = (entries: Uint8Array[]) => {
      const state = new MembershipState(w.admin.docId)
      for (const e of entries) state.append(e)
      return state
    }
    expect(replay(chain).epoch).toBe(w.admin.epoch)
    const edit = fc.oneof(
      fc.record({ t: fc.constant('swap' as const), i: fc.nat(), j: fc.nat() }),
      fc.record({ t: fc.constant('drop' as const), i: fc.nat(), j: fc.nat() }),
    )
    await fc.assert(
      fc.property(edit, ({ t, i, j }) => {
        const a = i % chain.length
        const b = j % chain.length
        const edited = [...chain]
        if (t === 'swap') {
          fc.pre(a !== b)
          ;[edited[a], edited[b]] = [edited[b] as Uint8Array, edited[a] as Uint8Array]
        } else {
          // Dropping the newest entries is withholding, which the threat model admits.
          fc.pre(a < chain.length - 1)
          edited.splice(a, 1)
        }
        expect(() => replay(edited)).toThrow(CryptoError)
      }),
      { numRuns: 60 },
    )
    // A fork: another document's entry at a known index is refused by a session.
    const other = await World.create()
    await other.admin.rotate()
    const foreign = other.relay.chains.get(other.admin.docId)?.entries[1] as Uint8Array
    expect(await codeOf(w.admin.applyMembership(1, foreign))).toBe('fork-detected')
    expect(w.admin.membershipLength()).toBe(chain.length)
  }, 120_000)
})

describe('envelope properties', () => {
  let w: World
  let bo: DocumentSession
  beforeAll(async () => {
    w = await World.create()
    await w.apply({ t: 'share', who: 0, role: Role.Editor })
    await w.admin.rotate()
    bo = w.sessions.get(0) as DocumentSession
  }, 60_000)

  it('a relay-side CounterWindow fed the verified author rejects every repeated or lower counter', async () => {
    const submission = fc.record({ byBo: fc.boolean(), counter: fc.integer({ min: 1, max: 6 }) })
    await fc.assert(
      fc.asyncProperty(fc.array(submission, { minLength: 1, maxLength: 8 }), async (subs) => {
        const relayState = w.relay.chains.get(w.admin.docId)?.state
        if (relayState === undefined) throw new Error('no chain')
        const window = new CounterWindow()
        const newest = new Map<string, number>()
        const accepted: Uint8Array[] = []
        for (const sub of subs) {
          const author = sub.byBo ? bo : w.admin
          const bytes = await author.seal('update', text('c'), sub.counter)
          const v = verifyEnvelope(relayState, bytes, { kind: 'update' })
          expect(v.authorId).toBe(author.author)
          const last = newest.get(v.authorId)
          if (last !== undefined && sub.counter <= last) {
            expect(() => window.accept(v.authorId, v.counter)).toThrow(
              expect.objectContaining({ code: 'replay' }),
            )
          } else {
            window.accept(v.authorId, v.counter)
            newest.set(v.authorId, sub.counter)
            accepted.push(bytes)
          }
        }
        // Replaying any accepted envelope byte for byte is refused too.
        for (const bytes of accepted) {
          const v = verifyEnvelope(relayState, bytes)
          expect(() => window.accept(v.authorId, v.counter)).toThrow(CryptoError)
        }
      }),
      { numRuns: 20 },
    )
  }, 120_000)

  it('swapping the author index or epoch, or splicing ciphertexts between envelopes, is rejected', async () => {
    const rebuild = (
      bytes: Uint8Array,
      change: Partial<EnvelopeHeader>,
      ciphertext?: Uint8Array,
    ) => {
      const e = decodeEnvelope(bytes)
      const header = encodeEnvelopeHeader({ ...e, ...change })
      return joinSignature(encodeEnvelopeBody(header, ciphertext ?? e.ciphertext), e.signature)
    }
    const field = fc.oneof(
      fc.record({ f: fc.constant('author' as const), n: fc.nat({ max: 12 }) }),
      fc.record({ f: fc.constant('epoch' as const), n: fc.nat({ max: 3 }) }),
      fc.record({ f: fc.constant('splice' as const), n: fc.nat() }),
    )
    await fc.assert(
      fc.asyncProperty(fc.boolean(), field, fc.string(), async (byBo, swap, body) => {
        const author = byBo ? bo : w.admin
        const other = byBo ? w.admin : bo
        const good = await author.seal('update', text(body), 5)
        const e = decodeEnvelope(good)
        let bad: Uint8Array
        if (swap.f === 'splice') {
          const donor = decodeEnvelope(await other.seal('update', text(body), 5))
          bad = rebuild(good, {}, donor.ciphertext)
        } else {
          fc.pre(swap.n !== e[swap.f])
          bad = rebuild(good, { [swap.f]: swap.n })
        }
        for (const reader of [w.admin, bo]) {
          expect(['bad-signature', 'not-authorised', 'unknown-epoch']).toContain(
            await codeOf(reader.open('update', bad)),
          )
          expect(str((await reader.open('update', good)).plaintext)).toBe(body)
        }
      }),
      { numRuns: 30 },
    )
  }, 120_000)

  it('the AEAD binds the header on its own: re-signed header changes and splices do not decrypt', async () => {
    // Bo's own per-document key, as a malicious (or buggy) Bo could use it outside the API.
    const secret = documentSigningSecret(users[0] as Identity, w.admin.docId)
    expect(toHex(ed25519.getPublicKey(secret))).toBe(bo.author)
    const sign = ed25519Signer(secret)
    const resign = async (header: EnvelopeHeader, ciphertext: Uint8Array) => {
      const signed = encodeEnvelopeBody(encodeEnvelopeHeader(header), ciphertext)
      return joinSignature(
        signed,
        await sign(domainMessage('envelope', utf8(w.admin.docId), signed)),
      )
    }
    const change = fc.oneof(
      fc.record({ f: fc.constant('epoch' as const), n: fc.nat({ max: 3 }) }),
      fc.record({ f: fc.constant('counter' as const), n: fc.nat({ max: 1000 }) }),
      fc.record({ f: fc.constant('splice' as const), n: fc.nat() }),
    )
    await fc.assert(
      fc.asyncProperty(change, fc.string(), async (c, body) => {
        const e = decodeEnvelope(await bo.seal('update', text(body), 5))
        let bad: Uint8Array
        if (c.f === 'splice') {
          // Anna's ciphertext of the same epoch under Bo's header and signature.
          const donor = decodeEnvelope(await w.admin.seal('update', text(body), 5))
          bad = await resign(e, donor.ciphertext)
        } else {
          fc.pre(c.n !== e[c.f])
          bad = await resign({ ...e, [c.f]: c.n }, e.ciphertext)
        }
        const want = c.f === 'epoch' && c.n > w.admin.epoch ? 'unknown-epoch' : 'decrypt-failed'
        for (const reader of [w.admin, bo]) {
          expect(await codeOf(reader.open('update', bad))).toBe(want)
        }
        // Sanity: a correctly re-signed copy of the untouched envelope does open.
        const same = await resign(e, e.ciphertext)
        expect(str((await w.admin.open('update', same)).plaintext)).toBe(body)
      }),
      { numRuns: 30 },
    )
  }, 120_000)
})
