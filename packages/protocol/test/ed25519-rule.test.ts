import { readFileSync } from 'node:fs'
import { ed25519 } from '@noble/curves/ed25519.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  ed25519Encodings,
  ed25519Native,
  ed25519SignedAnyway,
  ed25519Verify,
  ed25519VerifyStrict,
} from '../src/index.js'
import { signWithTorsion } from './torsion.js'

interface Vector {
  number: number
  key: string
  sig: string
  msg: string
  flags: string[]
  valv: boolean
}

const file = JSON.parse(
  readFileSync(new URL('./vectors/ed25519-edge.json', import.meta.url), 'utf8'),
) as { vectors: Vector[] }
const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => Number.parseInt(b, 16))
const text = new TextEncoder()

/** The documented rule, expressed in the vectors' flags. */
const REFUSED = [
  'low_order_A',
  'low_order_R',
  'non_canonical_A',
  'non_canonical_R',
  'low_order_residue',
  's_not_reduced',
]

describe('Ed25519 acceptance rule', () => {
  it('holds the 914 CCTV vectors and the S ≥ L ones, each with the documented verdict', () => {
    expect(file.vectors.filter((v) => v.number < 1000)).toHaveLength(914)
    for (const v of file.vectors) {
      expect(v.valv, `vector ${v.number}`).toBe(!v.flags.some((f) => REFUSED.includes(f)))
    }
  })

  it('gives the same verdict on WebCrypto and on noble, the documented one, on every vector', async () => {
    // On Node the asynchronous path really is WebCrypto, so this compares the two engines.
    expect(await ed25519Native()).toBe(true)
    let accepted = 0
    for (const v of file.vectors) {
      const [sig, msg, key] = [hex(v.sig), text.encode(v.msg), hex(v.key)]
      const strict = ed25519VerifyStrict(sig, msg, key)
      expect(strict, `noble path, vector ${v.number} ${v.flags}`).toBe(v.valv)
      expect(await ed25519Verify(sig, msg, key), `WebCrypto path, vector ${v.number}`).toBe(v.valv)
      if (strict) accepted++
    }
    expect(accepted).toBe(44)
  })

  it('lets WebCrypto decide only the equation, on which it agrees with the rule', async () => {
    // Where the encodings pass, raw WebCrypto (no JavaScript pre-checks) and noble agree.
    for (const v of file.vectors) {
      const [sig, msg, key] = [hex(v.sig), text.encode(v.msg), hex(v.key)]
      if (!ed25519Encodings(sig, key)) continue
      const k = await crypto.subtle.importKey('raw', key, { name: 'Ed25519' }, false, ['verify'])
      const raw = await crypto.subtle.verify('Ed25519', k, sig, msg)
      expect(raw, `vector ${v.number}`).toBe(ed25519VerifyStrict(sig, msg, key))
    }
  })

  it('agrees across paths on mutated signatures (property)', async () => {
    const seed = new Uint8Array(32).fill(9)
    const key = ed25519.getPublicKey(seed)
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 64 }),
        fc.nat(95),
        fc.integer({ min: 1, max: 255 }),
        fc.boolean(),
        async (msg, at, flip, torsion) => {
          const sig = torsion ? signWithTorsion(msg, seed) : ed25519.sign(msg, seed)
          const k = key.slice()
          if (at < 64) sig[at] = (sig[at] as number) ^ flip
          else k[at - 64] = (k[at - 64] as number) ^ flip
          expect(await ed25519Verify(sig, msg, k)).toBe(ed25519VerifyStrict(sig, msg, k))
        },
      ),
      { numRuns: 300 },
    )
  })

  it('refuses R = r·B + T (T of order 8) on both paths, yet knows the key holder made it', async () => {
    const seed = new Uint8Array(32).fill(3)
    const key = ed25519.getPublicKey(seed)
    const msg = text.encode('an edit')
    const sig = signWithTorsion(msg, seed)
    // The cofactored equation (the old synchronous path) accepts it: that was the split.
    expect(ed25519.verify(sig, msg, key, { zip215: false })).toBe(true)
    expect(ed25519VerifyStrict(sig, msg, key)).toBe(false)
    expect(await ed25519Verify(sig, msg, key)).toBe(false)
    expect(ed25519SignedAnyway(sig, msg, key)).toBe(true)
    // A forgery, or a valid signature malleated to S + L by anyone, is not pinned on the key.
    expect(ed25519SignedAnyway(new Uint8Array(64).fill(1), msg, key)).toBe(false)
    const good = ed25519.sign(msg, seed)
    const s = good.slice(32)
    let carry = 0
    const L = hex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010')
    for (let i = 0; i < 32; i++) {
      const t = (s[i] as number) + (L[i] as number) + carry
      s[i] = t & 255
      carry = t >> 8
    }
    const malleated = new Uint8Array(64)
    malleated.set(good.subarray(0, 32))
    malleated.set(s, 32)
    expect(ed25519VerifyStrict(malleated, msg, key)).toBe(false)
    expect(ed25519SignedAnyway(malleated, msg, key)).toBe(false)
  })
})
