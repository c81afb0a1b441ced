import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { randomBytes, utf8 } from '../../src/primitives/bytes.js'
import {
  generateKemKeyPair,
  KEM_BOX_OVERHEAD,
  openKemBox,
  sealToKem,
} from '../../src/primitives/hybrid-box.js'
import { expectCode } from './expect-code.js'

describe('hybrid sealed box (X-Wing)', () => {
  const alice = generateKemKeyPair()
  const aad = utf8('doc:epoch:3')

  it('has the documented sizes and round-trips', () => {
    expect(alice.publicKey).toHaveLength(1216)
    expect(alice.secretKey).toHaveLength(32)
    const key = randomBytes(32)
    const box = sealToKem(alice.publicKey, key, aad)
    expect(box).toHaveLength(32 + KEM_BOX_OVERHEAD)
    expect(KEM_BOX_OVERHEAD).toBe(1137)
    expect(box[0]).toBe(1)
    expect(openKemBox(alice.secretKey, box, aad)).toEqual(key)
  })

  it('is deterministic from seeds, randomised without them', () => {
    const seed = new Uint8Array(32).fill(7)
    const a = generateKemKeyPair(seed)
    expect(generateKemKeyPair(seed)).toEqual(a)
    const enc = new Uint8Array(64).fill(9)
    expect(sealToKem(a.publicKey, utf8('x'), aad, enc)).toEqual(
      sealToKem(a.publicKey, utf8('x'), aad, enc),
    )
    expect(sealToKem(a.publicKey, utf8('x'), aad)).not.toEqual(
      sealToKem(a.publicKey, utf8('x'), aad),
    )
    expectCode(() => generateKemKeyPair(new Uint8Array(16)), 'invalid-key')
  })

  it('refuses the wrong recipient, wrong aad, and any bit flip', () => {
    const box = sealToKem(alice.publicKey, utf8('epoch key'), aad)
    expectCode(() => openKemBox(generateKemKeyPair().secretKey, box, aad), 'decrypt-failed')
    expectCode(() => openKemBox(alice.secretKey, box, utf8('other')), 'decrypt-failed')
    fc.assert(
      fc.property(fc.nat(box.length * 8 - 1), (bit) => {
        const bad = box.slice()
        bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7))
        let code: string | undefined
        try {
          openKemBox(alice.secretKey, bad, aad)
        } catch (err) {
          code = (err as { code?: string }).code
        }
        // Byte 0 is the version: a flipped version is malformed, anything else fails to open.
        expect(code).toBe(bit < 8 ? 'malformed' : 'decrypt-failed')
      }),
      { numRuns: 60 },
    )
  })

  it('rejects malformed boxes and keys without throwing foreign errors', () => {
    const box = sealToKem(alice.publicKey, utf8('k'), aad)
    expectCode(
      () => openKemBox(alice.secretKey, box.subarray(0, KEM_BOX_OVERHEAD - 1), aad),
      'malformed',
    )
    expectCode(() => openKemBox(new Uint8Array(31), box, aad), 'invalid-key')
    expectCode(() => sealToKem(new Uint8Array(1215), utf8('k'), aad), 'invalid-key')
  })
})
