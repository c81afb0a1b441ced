import { bytesToHex as hex, hexToBytes } from '@noble/hashes/utils.js'
import { aeadSealWithNonce, keyCommitment, Suite } from '../../src/primitives/aead.js'
import { blobId, encryptBlob } from '../../src/primitives/blob-stream.js'
import { utf8 } from '../../src/primitives/bytes.js'
import { generateKemKeyPair, sealToKem } from '../../src/primitives/hybrid-box.js'
import { hkdf32 } from '../../src/primitives/kdf.js'
import { pad } from '../../src/primitives/padding.js'
import { wrapWithPassphraseFixed } from '../../src/primitives/passphrase.js'
import { generateSigningKeyPair, sign, signDomain } from '../../src/primitives/signature.js'

/** `n` bytes counting up from `start` (mod 256): readable fixed inputs. */
export const seq = (n: number, start = 0): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff)

/** Every fixed input and the bytes it must give, hex-encoded; see vectors.json. */
export async function computeVectors() {
  const key = seq(32, 0x40)
  const nonce = seq(24, 0x80)
  const aadHex = hex(utf8('valv header'))
  const aead = [Suite.XChaCha20Poly1305, Suite.Aes256Gcm].flatMap((suite) =>
    [new Uint8Array(), utf8('Protokoll från styrelsemötet'), seq(100)].map((pt) => ({
      suite,
      key: hex(key),
      nonce: hex(nonce),
      aad: aadHex,
      plaintext: hex(pt),
      sealed: hex(aeadSealWithNonce(suite, key, nonce, pt, utf8('valv header'))),
    })),
  )
  const kem = generateKemKeyPair(seq(32, 1))
  const encSeed = seq(64, 0xa0)
  const sig = generateSigningKeyPair(seq(32, 7))
  const blobKey = seq(32, 0x20)
  const blobPrefix = seq(16, 0xf0)
  const blobs = [
    { plaintext: seq(0), chunkSize: 65536 },
    { plaintext: seq(100), chunkSize: 32 },
    { plaintext: seq(64), chunkSize: 32 },
  ]
  return {
    description:
      'Valv v1 primitive test vectors; byte strings are hex. See docs/crypto-primitives.md.',
    aead,
    keyCommitment: [{ key: hex(key), commitment: hex(keyCommitment(key)) }],
    hkdf: ['valv/v1/epoch/content', 'valv/v1/document-key'].map((info) => ({
      ikm: hex(key),
      salt: hex(seq(8)),
      info,
      okm: hex(hkdf32(key, seq(8), info)),
    })),
    hybridBox: [
      {
        keySeed: hex(seq(32, 1)),
        publicKey: hex(kem.publicKey),
        encapsulationSeed: hex(encSeed),
        aad: aadHex,
        plaintext: hex(key),
        box: hex(sealToKem(kem.publicKey, key, utf8('valv header'), encSeed)),
      },
    ],
    signature: [
      {
        seed: hex(seq(32, 7)),
        publicKey: hex(sig.publicKey),
        message: hex(utf8('hello')),
        signature: hex(sign(sig.secretKey, utf8('hello'))),
        domain: 'device-cert',
        parts: [hex(utf8('ab')), hex(utf8('c'))],
        domainSignature: hex(signDomain('device-cert', sig.secretKey, utf8('ab'), utf8('c'))),
      },
    ],
    padding: [0, 1, 5, 60, 300].flatMap((n) =>
      (['none', 'padme', { bucket: 64 }] as const).map((policy) => ({
        policy,
        input: hex(seq(n)),
        padded: hex(pad(seq(n), policy)),
      })),
    ),
    passphrase: [
      {
        secret: hex(seq(32)),
        passphrase: 'correct horse battery staple',
        N: 1024,
        r: 8,
        p: 1,
        salt: hex(seq(16, 0x10)),
        nonce: hex(nonce),
        wrapped: hex(
          await wrapWithPassphraseFixed(
            seq(32),
            'correct horse battery staple',
            { N: 1024, r: 8, p: 1 },
            seq(16, 0x10),
            nonce,
          ),
        ),
      },
    ],
    blob: blobs.map(({ plaintext, chunkSize }) => ({
      key: hex(blobKey),
      prefix: hex(blobPrefix),
      chunkSize,
      plaintext: hex(plaintext),
      ciphertext: hex(
        encryptBlob(plaintext, { key: blobKey, prefix: blobPrefix, chunkSize }).ciphertext,
      ),
    })),
    blobId: [
      { idKey: hex(blobKey), input: hex(seq(32, 0x55)), id: blobId(blobKey, seq(32, 0x55)) },
    ],
  }
}

export { hexToBytes }
