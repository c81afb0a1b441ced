import { cleanup, startStack, until } from '@valv/test-utils/stack'
import { afterEach, describe, expect, it } from 'vitest'
import { type PresenceMessage, ReplayGuard } from '../src/index.js'
import { dump, startRoom } from './harness.js'

afterEach(cleanup)

const CANARY = 'CANARY-e2e-7d1f'
const contains = (hay: Uint8Array, needle: Uint8Array) =>
  Buffer.from(hay).includes(Buffer.from(needle))

describe('what the relay sees', () => {
  it('stores and logs no plaintext typed, pasted or pointed at by clients', async () => {
    const h = await startStack()
    const r = await startRoom(h.url)
    const b = await r.connect(r.editors[0]!, { compactAfter: 3, presence: { intervalMs: 50 } })
    await b.whenSynced()
    for (let i = 0; i < 6; i++) {
      b.doc.getText('t').insert(0, `${CANARY}#${i} `)
      await until(() => b.unsyncedChanges === 0)
    }
    b.awareness.setLocalStateField('user', { name: CANARY })
    const a = r.adminProvider
    await until(() => a.awareness.getStates().get(b.awareness.clientID)?.user?.name === CANARY)
    await until(() => b.binding.snapshotSeq > 0, 5000, 'a snapshot')
    expect(a.doc.getText('t').toString()).toContain(CANARY)
    const needle = new TextEncoder().encode(CANARY)
    const stored = await dump(h.storage)
    expect(stored.length).toBeGreaterThan(3)
    for (const [key, value] of stored) {
      expect(key.join('/')).not.toContain('CANARY')
      expect(contains(value, needle)).toBe(false)
    }
    const logs = JSON.stringify(h.logs)
    expect(h.logs.length).toBeGreaterThan(0)
    expect(logs).not.toContain('CANARY')
    expect(await (await fetch(`${h.url.replace('ws', 'http')}/metrics`)).text()).not.toContain(
      'CANARY',
    )
  })
})

describe('presence replay protection (nothing persisted)', () => {
  const msg = (session: string, counter: number, sentAt: number): PresenceMessage => ({
    session,
    counter,
    sentAt,
    type: 'heads',
    heads: new Map(),
    lastSeq: 0,
  })

  it('drops a repeated or older counter within a session, and anything too old', () => {
    const g = new ReplayGuard(60_000)
    const now = 1_000_000
    expect(g.accept('alice', msg('s1', 1, now), now)).toBe(true)
    expect(g.accept('alice', msg('s1', 1, now), now)).toBe(false)
    expect(g.accept('alice', msg('s1', 2, now), now)).toBe(true)
    expect(g.accept('alice', msg('s1', 2, now), now + 10)).toBe(false)
    // A new session (reload) starts its own counter; another author is independent.
    expect(g.accept('alice', msg('s2', 1, now), now)).toBe(true)
    expect(g.accept('bob', msg('s1', 1, now), now)).toBe(true)
    // Captured earlier and played into a later session: too old.
    expect(g.accept('alice', msg('s3', 1, now), now + 60_001)).toBe(false)
  })
})
