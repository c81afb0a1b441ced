import { describe, expect, it } from 'vitest'
import { randomBytes } from '../../src/primitives/bytes.js'
import { unwrapWithPassphrase, wrapWithPassphrase } from '../../src/primitives/passphrase.js'
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
    const wrapped = await wrapWithPassphrase(secret, 'pw', fast)
    await expectCodeAsync(unwrapWithPassphrase(wrapped, 'pW'), 'bad-passphrase')
    for (const i of [4, 19, 20, 43, 44, wrapped.length - 1]) {
      const bad = wrapped.slice()
      bad[i] = (bad[i] as number) ^ 1
      await expectCodeAsync(unwrapWithPassphrase(bad, 'pw'), 'bad-passphrase')
    }
  })

  it('refuses downgraded or absurd parameters, versions and short input as malformed', async () => {
    const wrapped = await wrapWithPassphrase(secret, 'pw', fast)
    const lower = wrapped.slice()
    lower[1] = 9
    await expectCodeAsync(unwrapWithPassphrase(lower, 'pw'), 'malformed')
    const huge = wrapped.slice()
    huge[1] = 24
    await expectCodeAsync(unwrapWithPassphrase(huge, 'pw'), 'malformed')
    const r0 = wrapped.slice()
    r0[2] = 0
    await expectCodeAsync(unwrapWithPassphrase(r0, 'pw'), 'malformed')
    const v2 = wrapped.slice()
    v2[0] = 2
    await expectCodeAsync(unwrapWithPassphrase(v2, 'pw'), 'malformed')
    await expectCodeAsync(unwrapWithPassphrase(wrapped.subarray(0, 59), 'pw'), 'malformed')
    await expectCodeAsync(wrapWithPassphrase(secret, 'pw', { N: 2 ** 9 }), 'malformed')
    await expectCodeAsync(wrapWithPassphrase(secret, 'pw', { N: 1000 }), 'malformed')
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
