import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CryptoError, entryHash, MembershipState, Role } from '../src/index.js'
import { addMember, entry, genesis, joinEntry, key, now } from './chain.js'

const code = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(CryptoError)
    return (err as CryptoError).code
  }
  throw new Error('did not throw')
}

describe('membership chain', () => {
  it('derives the document id from genesis and makes the creator admin', () => {
    const c = genesis()
    expect(c.docId).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(c.state.roleOf(0)).toBe(Role.Admin)
    expect(c.state.epoch).toBe(0)
    // The same genesis under another id is refused: a relay cannot substitute a genesis.
    const other = new MembershipState(genesis(key(2)).docId)
    expect(code(() => other.append(c.entries[0] as Uint8Array))).toBe('bad-signature')
    const substitute = entry(other, c.admin, {
      kind: 'genesis',
      nonce: new Uint8Array(16).fill(7),
      suite: 1,
      writeRole: Role.Editor,
      historyPolicy: 0,
      keyCommitment: new Uint8Array(32),
    })
    expect(code(() => other.append(substitute))).toBe('malformed')
  })

  it('admits and joins members; only admins change membership', () => {
    const c = genesis()
    const editor = key()
    const e = addMember(c, editor, Role.Editor)
    expect(c.state.roleOf(e)).toBe(Role.Editor)
    const admission = key()
    const forged = entry(c.state, editor, {
      kind: 'admit',
      admissionKey: admission.pub,
      role: Role.Admin,
      expiresAt: 0,
      maxUses: 0,
    })
    expect(code(() => c.state.append(forged))).toBe('not-authorised')
    const promote = entry(c.state, editor, { kind: 'set-role', member: e, role: Role.Admin })
    expect(code(() => c.state.append(promote))).toBe('not-authorised')
    // A member may step down itself.
    c.state.append(entry(c.state, editor, { kind: 'set-role', member: e, role: Role.Viewer }))
    expect(c.state.roleOf(e)).toBe(Role.Viewer)
  })

  it('refuses used, revoked, expired and forged admissions', () => {
    const c = genesis()
    const admission = key()
    c.state.append(
      entry(c.state, c.admin, {
        kind: 'admit',
        admissionKey: admission.pub,
        role: Role.Viewer,
        expiresAt: now() + 60,
        maxUses: 1,
      }),
    )
    const a = c.state.length - 1
    expect(code(() => c.state.append(joinEntry(c.state, key(), key(), a)))).toBe('bad-signature')
    c.state.append(joinEntry(c.state, key(), admission, a))
    expect(code(() => c.state.append(joinEntry(c.state, key(), admission, a)))).toBe('expired')
    const late = key()
    c.state.append(
      entry(c.state, c.admin, {
        kind: 'admit',
        admissionKey: late.pub,
        role: Role.Viewer,
        expiresAt: now() - 1,
        maxUses: 0,
      }),
    )
    const b = c.state.length - 1
    expect(code(() => c.state.append(joinEntry(c.state, key(), late, b)))).toBe('expired')
    const open = key()
    c.state.append(
      entry(c.state, c.admin, {
        kind: 'admit',
        admissionKey: open.pub,
        role: 1,
        expiresAt: 0,
        maxUses: 0,
      }),
    )
    const o = c.state.length - 1
    c.state.append(entry(c.state, c.admin, { kind: 'revoke-admission', admission: o }))
    expect(code(() => c.state.append(joinEntry(c.state, key(), open, o)))).toBe('expired')
  })

  it('marks a rotation owed after a removal until an admin rotates', () => {
    const c = genesis()
    const m = addMember(c, key(), Role.Editor)
    c.state.append(entry(c.state, c.admin, { kind: 'set-role', member: m, role: Role.None }))
    expect(c.state.rotationOwed).toBe(true)
    const skip = entry(c.state, c.admin, {
      kind: 'rotate',
      epoch: 2,
      keyCommitment: new Uint8Array(32),
    })
    expect(code(() => c.state.append(skip))).toBe('invalid-state')
    c.state.append(
      entry(c.state, c.admin, { kind: 'rotate', epoch: 1, keyCommitment: new Uint8Array(32) }),
    )
    expect(c.state.rotationOwed).toBe(false)
    expect(c.state.epoch).toBe(1)
  })

  it('never removes the last admin', () => {
    const c = genesis()
    const demote = entry(c.state, c.admin, { kind: 'set-role', member: 0, role: Role.Editor })
    expect(code(() => c.state.append(demote))).toBe('invalid-state')
  })

  it('detects forks and reordering: an entry must name the current head', () => {
    const c = genesis()
    const a = entry(c.state, c.admin, {
      kind: 'rotate',
      epoch: 1,
      keyCommitment: new Uint8Array(32),
    })
    const b = entry(c.state, c.admin, {
      kind: 'rotate',
      epoch: 1,
      keyCommitment: new Uint8Array(32).fill(2),
    })
    c.state.append(a)
    expect(code(() => c.state.append(b))).toBe('fork-detected')
    // Replaying the chain in another order fails at the first moved entry.
    const d = genesis()
    addMember(d, key(), Role.Viewer)
    const fresh = new MembershipState(d.docId)
    fresh.append(d.entries[0] as Uint8Array)
    expect(code(() => fresh.append(d.entries[2] as Uint8Array))).toBe('fork-detected')
  })

  it('refuses entries signed at a time far from the verifier clock', () => {
    const c = genesis()
    const old = entry(
      c.state,
      c.admin,
      { kind: 'rotate', epoch: 1, keyCommitment: new Uint8Array(32) },
      { at: now() - 3600 },
    )
    expect(code(() => c.state.append(old, { now: now() }))).toBe('expired')
    expect(c.state.length).toBe(1)
  })

  it('rejects any bit flip or truncation of any entry, and changes nothing (property)', () => {
    const c = genesis()
    addMember(c, key(), Role.Editor)
    addMember(c, key(), Role.Viewer)
    fc.assert(
      fc.property(
        fc.nat({ max: c.entries.length - 1 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        fc.boolean(),
        (which, pos, bit, truncate) => {
          const state = new MembershipState(c.docId)
          for (let i = 0; i < which; i++) state.append(c.entries[i] as Uint8Array)
          const good = c.entries[which] as Uint8Array
          const bad = truncate
            ? good.slice(0, pos % good.length)
            : good.map((x, i) => (i === pos % good.length ? x ^ (1 << bit) : x))
          const before = state.length
          expect(() => state.append(bad)).toThrow(CryptoError)
          expect(state.length).toBe(before)
          state.append(good)
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('MembershipState.appendAsync (native signature checks)', () => {
  it('gives the same verdict and code as append for any bit flip or truncation (property)', async () => {
    const c = genesis()
    addMember(c, key(), Role.Editor)
    addMember(c, key(), Role.Viewer)
    const codeOf = async (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (err: CryptoError) => err.code,
      )
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: c.entries.length - 1 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        fc.boolean(),
        async (which, pos, bit, truncate) => {
          const sync = new MembershipState(c.docId)
          const async = new MembershipState(c.docId)
          for (let i = 0; i < which; i++) {
            sync.append(c.entries[i] as Uint8Array)
            await async.appendAsync(c.entries[i] as Uint8Array)
          }
          const good = c.entries[which] as Uint8Array
          const bad = truncate
            ? good.slice(0, pos % good.length)
            : good.map((x, i) => (i === pos % good.length ? x ^ (1 << bit) : x))
          const want = await codeOf(Promise.resolve().then(() => sync.append(bad)))
          expect(want).not.toBe('ok')
          expect(await codeOf(async.appendAsync(bad))).toBe(want)
          expect(async.length).toBe(which)
          await async.appendAsync(good)
          expect(async.head).toEqual(sync.append(good) && sync.head)
        },
      ),
      { numRuns: 150 },
    )
  })
})

describe('MembershipState.appendManyAsync (signatures checked in parallel)', () => {
  const codeOf = async (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (err: CryptoError) => err.code,
    )

  /** A chain with joins right after their admits, and a join under the wrong admission key. */
  const chain = () => {
    const c = genesis()
    addMember(c, key(), Role.Editor)
    addMember(c, key(), Role.Viewer)
    const admission = key()
    const admit = entry(c.state, c.admin, {
      kind: 'admit',
      admissionKey: admission.pub,
      role: Role.Viewer,
      expiresAt: 0,
      maxUses: 2,
    })
    c.state.append(admit)
    c.entries.push(admit)
    const at = c.state.length - 1
    const join = joinEntry(c.state, key(), admission, at)
    c.state.append(join)
    c.entries.push(join)
    // Signed correctly by its member, but its admission signature is by another key.
    const forged = joinEntry(c.state, key(), key(), at)
    return { ...c, forged }
  }

  it('appends what appendAsync one by one appends, and fails where and how it fails (property)', async () => {
    const c = chain()
    const all = [...c.entries, c.forged]
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: all.length - 1 }),
        fc.option(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 7 }), fc.boolean())),
        async (from, damage) => {
          const batch = all.slice(from)
          if (damage !== null) {
            const [which, pos, bit, truncate] = damage
            const i = which % batch.length
            const good = batch[i] as Uint8Array
            batch[i] = truncate
              ? good.slice(0, pos % good.length)
              : good.map((x, j) => (j === pos % good.length ? x ^ (1 << bit) : x))
          }
          const one = new MembershipState(c.docId)
          const many = new MembershipState(c.docId)
          for (const e of all.slice(0, from)) {
            one.append(e)
            many.append(e)
          }
          let want = 'ok'
          for (const e of batch) {
            want = await codeOf(one.appendAsync(e))
            if (want !== 'ok') break
          }
          const seen: number[] = []
          const got = await codeOf(many.appendManyAsync(batch, {}, (e) => void seen.push(e.index)))
          expect(got).toBe(want)
          expect(many.length).toBe(one.length)
          expect(many.head).toEqual(one.head)
          expect(seen).toEqual(many.chain.slice(from).map((e) => e.index))
          for (let i = 0; i < many.length; i++) {
            expect(many.hashOf(i)).toEqual(
              entryHash(c.docId, [...all.slice(0, from), ...batch][i]!),
            )
          }
        },
      ),
      { numRuns: 150 },
    )
  })

  it('refuses a join whose admission signature is by another key, as append does', async () => {
    const c = chain()
    const many = new MembershipState(c.docId)
    const got = await codeOf(many.appendManyAsync([...c.entries, c.forged]))
    expect(got).toBe('bad-signature')
    expect(many.length).toBe(c.entries.length)
  })
})

describe('membership versions', () => {
  it('reads version 2 entries, writes 3, and refuses a chain that goes back from 3 to 2', () => {
    const admit = {
      kind: 'admit',
      admissionKey: key().pub,
      role: Role.Viewer,
      expiresAt: 0,
      maxUses: 1,
    } as const
    const c = genesis()
    expect(c.entries[0]?.[0]).toBe(3)
    const down = entry(c.state, c.admin, admit, { version: 2 })
    expect(code(() => c.state.append(down))).toBe('unsupported-version')
    expect(c.state.length).toBe(1)
    // A chain written in version 2 is read, and version 3 entries may follow.
    const old = new MembershipState(c.docId)
    old.append(
      entry(old, c.admin, { ...genesisBody(), nonce: new Uint8Array(16).fill(7) }, { version: 2 }),
    )
    old.append(entry(old, c.admin, admit, { version: 2 }))
    const next = entry(old, c.admin, admit)
    old.append(next)
    expect(old.chain.map((e) => e.version)).toEqual([2, 2, 3])
    const unknown = next.slice()
    unknown[0] = 4
    expect(code(() => old.clone().append(unknown))).toBe('unsupported-version')
  })
})

function genesisBody() {
  return {
    kind: 'genesis',
    suite: 1,
    writeRole: Role.Editor,
    historyPolicy: 0,
    keyCommitment: new Uint8Array(32).fill(1),
  } as const
}

describe('MembershipState.clone', () => {
  it('is independent of the original', () => {
    const c = genesis()
    const copy = c.state.clone()
    addMember(c, key(), Role.Editor)
    expect(copy.length).toBe(1)
    expect(c.state.length).toBe(3)
    copy.append(
      entry(copy, c.admin, { kind: 'rotate', epoch: 1, keyCommitment: new Uint8Array(32) }),
    )
    expect(copy.epoch).toBe(1)
    expect(c.state.epoch).toBe(0)
  })
})
