import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type PaddingPolicy, pad, padmeLength, unpad } from '../../src/primitives/padding.js'
import { expectCode } from './expect-code.js'

/** The reference PADMÉ from the paper, in BigInt so it is exact. */
function padmeReference(n: number): number {
  if (n < 2) return n
  const e = BigInt(n).toString(2).length - 1
  const s = e.toString(2).length
  const mask = (1n << BigInt(e - s)) - 1n
  return Number((BigInt(n) + mask) & ~mask)
}

const policies: fc.Arbitrary<PaddingPolicy> = fc.oneof(
  fc.constant('none' as const),
  fc.constant('padme' as const),
  fc.integer({ min: 1, max: 4096 }).map((bucket) => ({ bucket })),
)

describe('padmeLength', () => {
  it('matches the paper on known values and a reference implementation', () => {
    expect([0, 1, 2, 3, 8, 9, 10, 1000, 1024, 1025, 65536, 65537].map(padmeLength)).toEqual([
      0, 1, 2, 3, 8, 10, 10, 1024, 1024, 1088, 65536, 67584,
    ])
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (n) => {
        expect(padmeLength(n)).toBe(padmeReference(n))
      }),
      { numRuns: 2000 },
    )
  })

  it('is monotone, idempotent, never shrinks and costs at most 12 %', () => {
    fc.assert(
      fc.property(fc.nat(2 ** 32), fc.nat(2 ** 32), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a]
        expect(padmeLength(lo)).toBeLessThanOrEqual(padmeLength(hi))
        expect(padmeLength(padmeLength(a))).toBe(padmeLength(a))
        expect(padmeLength(a)).toBeGreaterThanOrEqual(a)
        expect(padmeLength(a)).toBeLessThanOrEqual(Math.max(a * 1.12, a))
      }),
      { numRuns: 2000 },
    )
    expectCode(() => padmeLength(-1), 'malformed')
  })
})

describe('pad / unpad', () => {
  it('unpad(pad(x)) == x for every policy, and sizes follow the policy', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), policies, (x, policy) => {
        const p = pad(x, policy)
        expect(unpad(p)).toEqual(x)
        const inner = x.length + 4
        if (policy === 'none') expect(p.length).toBe(inner)
        else if (policy === 'padme') expect(p.length).toBe(padmeLength(inner))
        else {
          expect(p.length % policy.bucket).toBe(0)
          expect(p.length - inner).toBeLessThan(policy.bucket)
        }
      }),
    )
  })

  it('padded length is monotone in the input length (PADMÉ)', () => {
    fc.assert(
      fc.property(fc.nat(100_000), fc.nat(100_000), (a, b) => {
        const la = pad(new Uint8Array(a), 'padme').length
        const lb = pad(new Uint8Array(b), 'padme').length
        if (a <= b) expect(la).toBeLessThanOrEqual(lb)
        else expect(la).toBeGreaterThanOrEqual(lb)
      }),
      { numRuns: 300 },
    )
  })

  it('rejects short input, an overlong length, non-zero padding and bad buckets', () => {
    expectCode(() => unpad(new Uint8Array(3)), 'malformed')
    expectCode(() => unpad(new Uint8Array([0, 0, 0, 5, 1, 2, 3, 4])), 'malformed')
    const p = pad(new Uint8Array([1, 2]), { bucket: 16 })
    p[15] = 1
    expectCode(() => unpad(p), 'malformed')
    expectCode(() => pad(new Uint8Array(1), { bucket: 0 }), 'malformed')
    expectCode(() => pad(new Uint8Array(1), { bucket: 1.5 }), 'malformed')
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (garbage) => {
        try {
          const out = unpad(garbage)
          expect(pad(out, 'none')).toEqual(garbage.subarray(0, out.length + 4))
        } catch (err) {
          expect((err as { code?: string }).code).toBe('malformed')
        }
      }),
    )
  })
})
