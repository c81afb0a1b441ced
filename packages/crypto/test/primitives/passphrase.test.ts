import { describe, expect, it } from 'vitest'
import { randomBytes } from '../../src/primitives/bytes.js'
import {
  MIN_PASSPHRASE_LENGTH,
  unwrapWithPassphrase,
  wrapWithPassphrase,
  wrapWithPassphraseFixed,
} from '../../src/primitives/passphrase.js'
import { expectCodeAsync } from './expect-code.js'

const fast = { N: 2 ** 10, r: 8, p: 1 }

describe('passphrase wrapping (scrypt + XChaCha20-Poly1305)', () => {
  const secret = randomBytes(64)

  it('round-trips, with the documented layout, and normalises with NFKC', async () => {
    // 'é' precomposed vs. 'e' + combining acute: the same passphrase after NFKC.
    const wrapped = await wrapWithPassphrase(secret, 'caf\u00e9 ﬁle', fast)
    expect(wrapped).toHaveLength(1 + 3 + 16 + 24 + 64 + 16)
    expect([...wrapped.subarray(0, 4)]).toEqual([1, 10, 8, 1])
    expect(await unwrapWithPassphrase(wrapped, 'cafe\u0301 file')).toEqual(secret)
  })

  it('rejects a wrong passphrase and any changed byte', async () => {
    const wrapped = await wrapWithPassphrase(secret, 'pw-12345', fast)
    await expectCodeAsync(unwrapWithPassphrase(wrapped, 'pW-12345'), 'bad-passphrase')
    for (const i of [4, 19, 20, 43, 44, wrapped.length - 1]) {
      const bad = wrapped.slice()
      bad[i] = (bad[i] as number) ^ 1
      await expectCodeAsync(unwrapWithPassphrase(bad, 'pw-12345'), 'bad-passphrase')
    }
  })

  it('refuses downgraded or absurd parameters, versions and short input as malformed', async () => {
    const wrapped = await wrapWithPassphrase(secret, 'pw-12345', fast)
    const lower = wrapped.slice()
    lower[1] = 9
    await expectCodeAsync(unwrapWithPassphrase(lower, 'pw-12345'), 'malformed')
    const huge = wrapped.slice()
    huge[1] = 24
    await expectCodeAsync(unwrapWithPassphrase(huge, 'pw-12345'), 'malformed')
    const r0 = wrapped.slice()
    r0[2] = 0
    await expectCodeAsync(unwrapWithPassphrase(r0, 'pw-12345'), 'malformed')
    const v2 = wrapped.slice()
    v2[0] = 2
    await expectCodeAsync(unwrapWithPassphrase(v2, 'pw-12345'), 'malformed')
    await expectCodeAsync(unwrapWithPassphrase(wrapped.subarray(0, 59), 'pw-12345'), 'malformed')
    await expectCodeAsync(wrapWithPassphrase(secret, 'pw-12345', { N: 2 ** 9 }), 'malformed')
    await expectCodeAsync(wrapWithPassphrase(secret, 'pw-12345', { N: 1000 }), 'malformed')
  })

  it('refuses to wrap under an empty or short passphrase, but still unwraps old wraps', async () => {
    for (const weak of ['', ' ', 'hunter2', '1234567', 'e\u0301e\u0301e\u0301e\u0301']) {
      await expectCodeAsync(wrapWithPassphrase(secret, weak, fast), 'weak-passphrase')
    }
    expect(MIN_PASSPHRASE_LENGTH).toBe(8)
    expect(await wrapWithPassphrase(secret, '12345678', fast)).toBeInstanceOf(Uint8Array)
    // A wrap made under a short passphrase before the floor existed still opens.
    const old = await wrapWithPassphraseFixed(
      secret,
      'pw',
      fast,
      new Uint8Array(16),
      new Uint8Array(24),
    )
    expect(await unwrapWithPassphrase(old, 'pw')).toEqual(secret)
  })

  it('works at the default parameters (N = 2^17, r = 8, p = 1)', async () => {
    const start = performance.now()
    const wrapped = await wrapWithPassphrase(secret, 'correct horse battery staple')
    expect([...wrapped.subarray(0, 4)]).toEqual([1, 17, 8, 1])
    expect(await unwrapWithPassphrase(wrapped, 'correct horse battery staple')).toEqual(secret)
    // Memory-hard on purpose: two derivations take measurable time even on a fast machine.
    expect(performance.now() - start).toBeGreaterThan(50)
  })
})
