import { DocumentSession, Identity, Role } from '@valv/crypto'
import { describe, expect, it } from 'vitest'
import { RelayError } from '../src/errors.js'
import { defaultVerifier } from '../src/protocol-verifier.js'

/** Real sessions, membership appended through the relay's own verifier (compare-and-append). */
async function room() {
  const verifier = defaultVerifier()
  const chain: Uint8Array[] = []
  const sessions: DocumentSession[] = []
  const sink = (self: DocumentSession) => ({
    appendMembership: async (index: number, entry: Uint8Array) => {
      if (index !== chain.length)
        throw Object.assign(new Error('conflict'), { relayCode: 'membership-conflict' })
      await verifier.verifyMembershipEntry({ docId: self.docId, membership: chain }, entry)
      chain.push(entry)
      for (const s of sessions) await s.applyMembership(index, entry)
    },
  })
  const admin = await DocumentSession.create(await Identity.create())
  sessions.push(admin)
  await admin.attach(sink(admin))
  const join = async (role: Role) => {
    const id = await Identity.create()
    await admin.share(id.card, role)
    const s = await DocumentSession.open(id, admin.docId)
    for (const [i, e] of chain.entries()) await s.applyMembership(i, e)
    sessions.push(s)
    await s.attach(sink(s))
    await s.joined()
    return { id, s }
  }
  const ctx = () => ({ docId: admin.docId, membership: [...chain] })
  return { verifier, admin, join, ctx, chain }
}

const code = async (fn: () => unknown) => {
  try {
    await fn()
  } catch (err) {
    expect(err).toBeInstanceOf(RelayError)
    return (err as RelayError).code
  }
  throw new Error('accepted')
}

describe('defaultVerifier (the relay with @valv/protocol)', () => {
  it('accepts editors, refuses viewers, removed members, forgeries and bad chain entries', async () => {
    const r = await room()
    const editor = await r.join(Role.Editor)
    const viewer = await r.join(Role.Viewer)
    const ok = await r.verifier.verifyUpdate(
      r.ctx(),
      await editor.s.seal('update', new Uint8Array([1]), 1),
    )
    expect(ok.counter).toBe(1)
    expect(
      await code(async () =>
        r.verifier.verifyUpdate(r.ctx(), await viewer.s.seal('update', new Uint8Array([1]), 1)),
      ),
    ).toBe('forbidden')
    const beforeRemoval = await editor.s.seal('update', new Uint8Array([2]), 2)
    await r.admin.unshare(editor.id.userId)
    expect(await code(() => r.verifier.verifyUpdate(r.ctx(), beforeRemoval))).toBe('forbidden')
    const forged = await r.admin.seal('update', new Uint8Array([3]), 3)
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1
    expect(await code(() => r.verifier.verifyUpdate(r.ctx(), forged))).toBe('bad-signature')
    expect(await code(() => r.verifier.verifyUpdate(r.ctx(), new Uint8Array(10)))).toBe('malformed')
    // A snapshot must come from a writer too.
    const position = { upToSeq: 1, prevSeq: 0, prev: new Uint8Array(32) }
    const viewerSnapshot = await viewer.s.seal('snapshot', new Uint8Array([4]), 5, position)
    expect(await code(() => r.verifier.verifySnapshot(r.ctx(), viewerSnapshot))).toBe('forbidden')
    // A membership entry replayed at the next index does not extend the chain.
    expect(
      await code(() => r.verifier.verifyMembershipEntry(r.ctx(), r.chain[1] as Uint8Array)),
    ).toBe('membership-invalid')
  })
})
