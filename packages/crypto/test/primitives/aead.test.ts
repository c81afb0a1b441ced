import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  AEAD_OVERHEAD,
  aeadOpen,
  aeadSeal,
  aeadSealWithNonce,
  isSupportedSuite,
  keyCommitment,
  Suite,
  type SuiteId,
} from '../../src/primitives/aead.js'
import { randomBytes, utf8 } from '../../src/primitives/bytes.js'
import { hkdf32 } from '../../src/primitives/kdf.js'
import { expectCode } from './expect-code.js'

const suites: SuiteId[] = [Suite.XChaCha20Poly1305, Suite.Aes256Gcm]

describe.each(suites)('AEAD suite %i', (suite) => {
  const key = randomBytes(32)
  const aad = utf8('header')

  it('round-trips with 40 bytes of overhead and fresh nonces', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 40 }), (pt, ad) => {
        const a = aeadSeal(suite, key, pt, ad)
        const b = aeadSeal(suite, key, pt, ad)
        expect(a.length).toBe(pt.length + AEAD_OVERHEAD)
        expect(a.subarray(0, 24)).not.toEqual(b.subarray(0, 24))
        expect(aeadOpen(suite, key, a, ad)).toEqual(pt)
      }),
      { numRuns: 50 },
    )
  })

  it('rejects every single bit flip with decrypt-failed', () => {
    const sealed = aeadSeal(suite, key, utf8('the minutes of the board'), aad)
    fc.assert(
      fc.property(fc.nat(sealed.length * 8 - 1), (bit) => {
        const bad = sealed.slice()
        bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7))
        expectCode(() => aeadOpen(suite, key, bad, aad), 'decrypt-failed')
      }),
    )
  })

  it('rejects a wrong key, wrong aad, truncation and the other suite', () => {
    const sealed = aeadSeal(suite, key, utf8('x'), aad)
    expectCode(() => aeadOpen(suite, randomBytes(32), sealed, aad), 'decrypt-failed')
    expectCode(() => aeadOpen(suite, key, sealed, utf8('other')), 'decrypt-failed')
    for (let n = 0; n < sealed.length; n++) {
      expectCode(() => aeadOpen(suite, key, sealed.subarray(0, n), aad), 'decrypt-failed')
    }
    const other = suite === Suite.Aes256Gcm ? Suite.XChaCha20Poly1305 : Suite.Aes256Gcm
    expectCode(() => aeadOpen(other, key, sealed, aad), 'decrypt-failed')
  })

  it('rejects bad keys and unknown suites before touching data', () => {
    expectCode(() => aeadSeal(suite, new Uint8Array(16), utf8('x'), aad), 'invalid-key')
    expectCode(() => aeadOpen(suite, new Uint8Array(31), new Uint8Array(60), aad), 'invalid-key')
    expectCode(() => aeadSeal(3 as SuiteId, key, utf8('x'), aad), 'unsupported-suite')
    expectCode(() => aeadOpen(0 as SuiteId, key, new Uint8Array(60), aad), 'unsupported-suite')
    expectCode(() => aeadSealWithNonce(suite, key, new Uint8Array(12), utf8('x'), aad), 'malformed')
  })
})

describe('known answers', () => {
  it('XChaCha20-Poly1305 suite matches draft-irtf-cfrg-xchacha-03 A.3.1', () => {
    const key = hexToBytes('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f')
    const nonce = hexToBytes('404142434445464748494a4b4c4d4e4f5051525354555657')
    const aad = hexToBytes('50515253c0c1c2c3c4c5c6c7')
    const pt = utf8(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    )
    const sealed = aeadSealWithNonce(Suite.XChaCha20Poly1305, key, nonce, pt, aad)
    expect(bytesToHex(sealed.subarray(0, 24))).toBe(bytesToHex(nonce))
    expect(bytesToHex(sealed.subarray(24, 40))).toBe('bd6d179d3e83d43b9576579493c0e939')
    expect(bytesToHex(sealed.subarray(-16))).toBe('c0875924c1c7987947deafd8780acf49')
  })

  it('AES-256-GCM suite equals WebCrypto AES-GCM under the HKDF subkey', async () => {
    const key = randomBytes(32)
    const nonce = randomBytes(24)
    const pt = randomBytes(1000)
    const aad = utf8('hdr')
    const subkey = hkdf32(key, nonce.subarray(0, 12), 'valv/v1/aead/aes-256-gcm/subkey')
    const ck = await crypto.subtle.importKey('raw', new Uint8Array(subkey), 'AES-GCM', false, [
      'encrypt',
    ])
    const expected = new Uint8Array(
      await crypto.subtle.encrypt(
        {
          name: 'AES-GCM',
          iv: new Uint8Array(nonce.subarray(12)),
          additionalData: new Uint8Array(aad),
        },
        ck,
        new Uint8Array(pt),
      ),
    )
    const sealed = aeadSealWithNonce(Suite.Aes256Gcm, key, nonce, pt, aad)
    expect(bytesToHex(sealed.subarray(24))).toBe(bytesToHex(expected))
  })
})

describe('AES-256-GCM suite', () => {
  it('uses a per-message subkey: the same GCM nonce half under different salts differs', () => {
    const key = randomBytes(32)
    const n1 = new Uint8Array(24)
    const n2 = new Uint8Array(24)
    n2[0] = 1
    const pt = new Uint8Array(32)
    const a = aeadSealWithNonce(Suite.Aes256Gcm, key, n1, pt, new Uint8Array())
    const b = aeadSealWithNonce(Suite.Aes256Gcm, key, n2, pt, new Uint8Array())
    // Same GCM nonce (bytes 12..24) and key: only the subkey can make the keystreams differ.
    expect(a.subarray(24, 56)).not.toEqual(b.subarray(24, 56))
  })
})

describe('suites and key commitment', () => {
  it('knows exactly the two suites', () => {
    expect([0, 1, 2, 3, 255].map(isSupportedSuite)).toEqual([false, true, true, false, false])
  })

  it('commits to the key: 32 bytes, deterministic, distinct per key', () => {
    const k = randomBytes(32)
    expect(keyCommitment(k)).toHaveLength(32)
    expect(keyCommitment(k)).toEqual(keyCommitment(k.slice()))
    expect(keyCommitment(k)).not.toEqual(keyCommitment(randomBytes(32)))
    expect(keyCommitment(k)).not.toEqual(k)
    expectCode(() => keyCommitment(new Uint8Array(16)), 'invalid-key')
  })
})
