import { describe, expect, it } from 'vitest'
import { admissionUsable, CryptoError, Role } from '../src/index.js'
import { entry, genesis, joinEntry, key } from './chain.js'

describe('admissions over time', () => {
  it('one rule decides joins and key wraps: usable up to expiresAt, by the signed time', () => {
    const c = genesis()
    const holder = key()
    const expiresAt = 1_900_000_000
    c.state.append(
      entry(
        c.state,
        c.admin,
        { kind: 'admit', admissionKey: holder.pub, role: Role.Viewer, expiresAt, maxUses: 2 },
        { at: expiresAt - 100 },
      ),
    )
    const i = c.state.length - 1
    const a = () => c.state.admission(i) ?? expect.fail('admission missing')
    expect(admissionUsable(a(), expiresAt)).toBe(true)
    expect(admissionUsable(a(), expiresAt + 1)).toBe(false)
    // Joins follow the same rule on the join's own `at` (no verifier clock: a member replaying
    // the chain later reaches the same verdict).
    const late = joinEntry(c.state, key(), holder, i, expiresAt + 1)
    expect(() => c.state.append(late)).toThrow(CryptoError)
    c.state.append(joinEntry(c.state, key(), holder, i, expiresAt))
    expect(admissionUsable(a(), expiresAt)).toBe(true)
    c.state.append(joinEntry(c.state, key(), holder, i, expiresAt))
    expect(a().uses).toBe(2)
    expect(admissionUsable(a(), 0)).toBe(false)
  })

  it('revoked admissions are unusable, and any admission can be revoked, expired or not', () => {
    const c = genesis()
    const never = key()
    c.state.append(
      entry(c.state, c.admin, {
        kind: 'admit',
        admissionKey: never.pub,
        role: Role.Editor,
        expiresAt: 0,
        maxUses: 0,
      }),
    )
    const n = c.state.length - 1
    const expired = key()
    c.state.append(
      entry(c.state, c.admin, {
        kind: 'admit',
        admissionKey: expired.pub,
        role: Role.Editor,
        expiresAt: 1,
        maxUses: 0,
      }),
    )
    const x = c.state.length - 1
    expect(admissionUsable(c.state.admission(n) ?? expect.fail(), 4_000_000_000)).toBe(true)
    for (const i of [n, x]) {
      c.state.append(entry(c.state, c.admin, { kind: 'revoke-admission', admission: i }))
      expect(admissionUsable(c.state.admission(i) ?? expect.fail(), 0)).toBe(false)
    }
  })
})
