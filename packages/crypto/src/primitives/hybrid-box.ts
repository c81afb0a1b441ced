import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js'
import { CryptoError } from '@valv/protocol'
import { hkdf32 } from './kdf.js'

/** A hybrid key pair: X-Wing (X25519 + ML-KEM-768). */
export interface KemKeyPair {
  /** Public key (1216 bytes), safe to publish. */
  readonly publicKey: Uint8Array
  /** Secret key: the 32-byte X-Wing seed both component keys expand from. */
  readonly secretKey: Uint8Array
}

/** X-Wing public key length. */
export const KEM_PUBLIC_KEY_LENGTH = 1216
/** X-Wing secret key (seed) length. */
export const KEM_SECRET_KEY_LENGTH = 32
/** X-Wing ciphertext length (ML-KEM-768 ciphertext 1088 + X25519 ephemeral key 32). */
export const KEM_CIPHERTEXT_LENGTH = 1120
/** Bytes `sealToKem` adds to a plaintext: version 1 + KEM ciphertext 1120 + tag 16. */
export const KEM_BOX_OVERHEAD = 1 + KEM_CIPHERTEXT_LENGTH + 16

const VERSION = 1
const INFO = 'valv/v1/hybrid-box'
// Each box derives a fresh one-time key from a fresh encapsulation, so a constant nonce never
// repeats under one key, and the box saves the 24 bytes a random nonce would cost.
const NONCE = new Uint8Array(24)

/** Generate a key pair; deterministic from a 32-byte `seed` (for test vectors and recovery). */
export function generateKemKeyPair(seed?: Uint8Array): KemKeyPair {
  if (seed !== undefined && seed.length !== KEM_SECRET_KEY_LENGTH) {
    throw new CryptoError('invalid-key', 'an X-Wing seed is 32 bytes')
  }
  return ml_kem768_x25519.keygen(seed)
}

function boxKey(sharedSecret: Uint8Array, cipherText: Uint8Array): Uint8Array {
  return hkdf32(sharedSecret, cipherText, INFO)
}

/**
 * Seal `plaintext` to a hybrid public key: X-Wing encapsulation (secure while either X25519 or
 * ML-KEM-768 holds, so recorded traffic stays safe from a future quantum computer), HKDF-SHA256
 * of the shared secret (salt: the KEM ciphertext) to a one-time key, then XChaCha20-Poly1305
 * bound to `aad`. Output: `version(1) || kemCiphertext(1120) || ciphertext || tag(16)`.
 * `seed` (64 bytes) fixes the encapsulation randomness, for test vectors only.
 *
 * @example
 * ```ts
 * const { publicKey, secretKey } = generateKemKeyPair()
 * const epochKey = crypto.getRandomValues(new Uint8Array(32))
 * const box = sealToKem(publicKey, epochKey, utf8('doc-id'))
 * openKemBox(secretKey, box, utf8('doc-id')) // epochKey
 * ```
 */
export function sealToKem(
  recipientPublicKey: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  seed?: Uint8Array,
): Uint8Array {
  if (recipientPublicKey.length !== KEM_PUBLIC_KEY_LENGTH) {
    throw new CryptoError('invalid-key', 'not a hybrid public key')
  }
  let enc: { cipherText: Uint8Array; sharedSecret: Uint8Array }
  try {
    enc = ml_kem768_x25519.encapsulate(recipientPublicKey, seed)
  } catch (cause) {
    throw new CryptoError('invalid-key', 'not a hybrid public key', { cause })
  }
  const sealed = xchacha20poly1305(boxKey(enc.sharedSecret, enc.cipherText), NONCE, aad).encrypt(
    plaintext,
  )
  const out = new Uint8Array(1 + KEM_CIPHERTEXT_LENGTH + sealed.length)
  out[0] = VERSION
  out.set(enc.cipherText, 1)
  out.set(sealed, 1 + KEM_CIPHERTEXT_LENGTH)
  return out
}

/**
 * Open a `sealToKem` box. Throws `malformed` (wrong version or too short), `invalid-key`
 * (secret key not 32 bytes) or `decrypt-failed` (wrong key, changed box or aad).
 */
export function openKemBox(secretKey: Uint8Array, box: Uint8Array, aad: Uint8Array): Uint8Array {
  if (secretKey.length !== KEM_SECRET_KEY_LENGTH) {
    throw new CryptoError('invalid-key', 'an X-Wing secret key is 32 bytes')
  }
  if (box.length < KEM_BOX_OVERHEAD || box[0] !== VERSION) {
    throw new CryptoError('malformed', 'not a hybrid sealed box')
  }
  const cipherText = box.subarray(1, 1 + KEM_CIPHERTEXT_LENGTH)
  try {
    const shared = ml_kem768_x25519.decapsulate(cipherText, secretKey)
    const key = boxKey(shared, cipherText)
    return xchacha20poly1305(key, NONCE, aad).decrypt(box.subarray(1 + KEM_CIPHERTEXT_LENGTH))
  } catch (cause) {
    throw new CryptoError('decrypt-failed', 'sealed box does not open', { cause })
  }
}
