import { ed25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { concatBytes, equalBytes, randomBytes, utf8 } from '../../src/primitives/bytes.js'
import { hkdf32, hkdfN, hmac256 } from '../../src/primitives/kdf.js'
import {
  generateSigningKeyPair,
  sign,
  signDomain,
  verify,
  verifyDomain,
} from '../../src/primitives/signature.js'
import { expectCode } from './expect-code.js'

describe('bytes', () => {
  it('compares in full and concatenates', () => {
    expect(equalBytes(utf8('abc'), utf8('abc'))).toBe(true)
    expect(equalBytes(utf8('abc'), utf8('abd'))).toBe(false)
    expect(equalBytes(utf8('abc'), utf8('ab'))).toBe(false)
    expect(concatBytes(utf8('a'), utf8('bc'))).toEqual(utf8('abc'))
    expect(randomBytes(32)).not.toEqual(randomBytes(32))
  })
})

describe('kdf', () => {
  it('matches RFC 5869 test case 1 through the noble primitive it wraps', () => {
    const ikm = hexToBytes('0b'.repeat(22))
    const salt = hexToBytes('000102030405060708090a0b0c')
    const info = hexToBytes('f0f1f2f3f4f5f6f7f8f9')
    expect(bytesToHex(hkdf(sha256, ikm, salt, info, 42))).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    )
    // And our wrapper is exactly HKDF-SHA256 with the UTF-8 info string.
    expect(hkdfN(ikm, salt, 'valv/v1/x', 42)).toEqual(
      hkdf(sha256, ikm, salt, utf8('valv/v1/x'), 42),
    )
  })

  it('separates domains and refuses info strings outside valv/v1/', () => {
    const ikm = randomBytes(32)
    expect(hkdf32(ikm, new Uint8Array(), 'valv/v1/a')).not.toEqual(
      hkdf32(ikm, new Uint8Array(), 'valv/v1/b'),
    )
    expect(hkdf32(ikm, new Uint8Array(), 'valv/v1/a')).toHaveLength(32)
    expectCode(() => hkdf32(ikm, new Uint8Array(), 'epoch'), 'malformed')
  })

  it('refuses output lengths outside 1 … 8160 with a typed error, never empty bytes', () => {
    const ikm = randomBytes(32)
    for (const n of [0, -1, 8161, 1.5, Number.NaN]) {
      expectCode(() => hkdfN(ikm, new Uint8Array(), 'valv/v1/x', n), 'malformed')
    }
    expect(hkdfN(ikm, new Uint8Array(), 'valv/v1/x', 1)).toHaveLength(1)
    expect(hkdfN(ikm, new Uint8Array(), 'valv/v1/x', 8160)).toHaveLength(8160)
    for (const n of [-1, 0.5, Number.NaN]) expectCode(() => randomBytes(n), 'malformed')
    expect(randomBytes(0)).toHaveLength(0)
  })

  it('hmac256 matches RFC 4231 test case 2', () => {
    expect(bytesToHex(hmac256(utf8('Jefe'), utf8('what do ya want '), utf8('for nothing?')))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    )
  })
})

describe('signature', () => {
  it('is deterministic from a seed and matches RFC 8032 test 1', () => {
    const seed = hexToBytes('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')
    const kp = generateSigningKeyPair(seed)
    expect(bytesToHex(kp.publicKey)).toBe(
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    )
    expect(bytesToHex(sign(kp.secretKey, new Uint8Array()))).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    )
    expectCode(() => generateSigningKeyPair(new Uint8Array(31)), 'invalid-key')
    expectCode(() => sign(new Uint8Array(64), new Uint8Array()), 'invalid-key')
  })

  it('verifies and rejects any bit flip of message or signature', () => {
    const kp = generateSigningKeyPair()
    const msg = utf8('role change: editor')
    const sig = sign(kp.secretKey, msg)
    expect(verify(kp.publicKey, msg, sig)).toBe(true)
    fc.assert(
      fc.property(fc.nat(sig.length * 8 - 1), fc.boolean(), (bit, inMsg) => {
        const m = msg.slice()
        const s = sig.slice()
        const target = inMsg ? m : s
        const i = bit % (target.length * 8)
        target[i >> 3] = (target[i >> 3] as number) ^ (1 << (i & 7))
        expect(verify(kp.publicKey, m, s)).toBe(false)
      }),
    )
  })

  it('never throws on garbage and rejects a malleated (non-canonical) signature', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), fc.uint8Array({ maxLength: 70 }), (pk, sig) => {
        expect(verify(pk, utf8('m'), sig)).toBe(false)
      }),
    )
    const kp = generateSigningKeyPair()
    const sig = sign(kp.secretKey, utf8('m'))
    // S + L (the group order) is the classic malleation; strict verification must refuse it.
    const L = 2n ** 252n + 27742317777372353535851937790883648493n
    let s = 0n
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i] as number)
    s += L
    const mall = sig.slice()
    for (let i = 32; i < 64; i++) {
      mall[i] = Number(s & 0xffn)
      s >>= 8n
    }
    expect(verify(kp.publicKey, utf8('m'), mall)).toBe(false)
  })

  it('domain-separates: a signature for one domain or part split fails for another', () => {
    const kp = generateSigningKeyPair()
    const sig = signDomain('device-cert', kp.secretKey, utf8('ab'), utf8('c'))
    expect(verifyDomain('device-cert', kp.publicKey, sig, utf8('ab'), utf8('c'))).toBe(true)
    expect(verifyDomain('membership', kp.publicKey, sig, utf8('ab'), utf8('c'))).toBe(false)
    expect(verifyDomain('device-cert', kp.publicKey, sig, utf8('a'), utf8('bc'))).toBe(false)
    expect(verifyDomain('device-cert', kp.publicKey, sig, utf8('abc'))).toBe(false)
    // The signed bytes are the length-prefixed domain string then length-prefixed parts.
    const expected = concatBytes(
      new Uint8Array([19]),
      utf8('valv/v1/device-cert'),
      new Uint8Array([2]),
      utf8('ab'),
      new Uint8Array([1]),
      utf8('c'),
    )
    expect(ed25519.verify(sig, expected, kp.publicKey)).toBe(true)
  })
})
