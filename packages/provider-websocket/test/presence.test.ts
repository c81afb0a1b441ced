import { describe, expect, it } from 'vitest'
import { BYE_COUNTER, decodePresence, encodePresence, ReplayGuard } from '../src/presence.js'

describe('presence messages', () => {
  it('round-trip with acks, and a bye closes its session whatever its age', () => {
    const heads = new Map([['anna', 3]])
    const m = {
      session: 's1',
      counter: 4,
      sentAt: 1000,
      acks: ['r1', 'r2'],
      type: 'heads',
      heads,
      lastSeq: 9,
    } as const
    expect(decodePresence(encodePresence(m))).toEqual(m)
    const bye = {
      session: 's1',
      counter: BYE_COUNTER,
      sentAt: 1000,
      acks: [],
      type: 'bye',
    } as const
    expect(decodePresence(encodePresence(bye))).toEqual(bye)
    const g = new ReplayGuard(60_000)
    expect(g.accept('anna', m, 1000)).toBe(true)
    expect(g.accept('anna', bye, 1000 + 3_600_000)).toBe(true)
    expect(g.accept('anna', { ...m, counter: 5, sentAt: 1000 + 3_600_000 }, 1000 + 3_600_000)).toBe(
      false,
    )
  })
})
