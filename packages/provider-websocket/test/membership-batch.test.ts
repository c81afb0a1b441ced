// A first join into a long chain over a real relay: the relay's catch-up arrives as a run of
// membership frames, which the provider hands to the session together, so the session can check
// their signatures in parallel. The result must be the chain the admin has, entry for entry.
import { DocumentSession, Identity, Role } from '@valv/crypto'
import { cleanup, startStack } from '@valv/test-utils/stack'
import { afterEach, describe, expect, it } from 'vitest'

afterEach(cleanup)

describe('membership catch-up over a real relay', () => {
  it('applies a run of membership frames in one call and ends on the admin’s chain', async () => {
    const stack = await startStack()
    const admin = await DocumentSession.create(await Identity.create({ displayName: 'admin' }))
    await stack.connect(admin)
    const people: Identity[] = []
    for (let i = 0; i < 24; i++) {
      const id = await Identity.create({ displayName: `member ${i}` })
      await admin.share(id.card, i % 2 ? Role.Editor : Role.Viewer)
      people.push(id)
    }
    const joiner = await DocumentSession.open(people[7] as Identity, admin.docId)
    const batches: number[] = []
    const many = joiner.applyMembershipMany.bind(joiner)
    joiner.applyMembershipMany = (from, entries) => {
      batches.push(entries.length)
      return many(from, entries)
    }
    await stack.connect(joiner)
    await joiner.joined()
    // Most of the 25 entries came in a run (the first frame may be handled alone).
    expect(Math.max(0, ...batches)).toBeGreaterThan(10)
    const view = (s: DocumentSession) => s.members().map((m) => [m.index, m.userId, m.role])
    await expect.poll(() => view(admin)).toEqual(view(joiner))
    expect(joiner.membershipLength()).toBe(admin.membershipLength())
  }, 60_000)
})
