import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js'
import { CryptoError } from '@valv/protocol'
import { hkdf32 } from './kdf.js'

/** A hybrid key pair: X-Wing (X25519 + ML-KEM-768), public key 1216 bytes. */
export interface KemKeyPair {
  /** Public key, safe to publish. */
  readonly publicKey: Uint8Array
  /** Secret key. */
  readonly secretKey: Uint8Array
}

const VERSION = 1
const NONCE = new Uint8Array(24)

/** Generate a key pair (deterministic from a 32-byte seed, for test vectors). */
export function generateKemKeyPair(seed?: Uint8Array): KemKeyPair {
  return ml_kem768_x25519.keygen(seed)
}

/**
 * Seal `plaintext` to a hybrid public key: X-Wing encapsulation (secure if either X25519 or
 * ML-KEM-768 holds, against harvest-now-decrypt-later), HKDF to a one-time key, then
 * XChaCha20-Poly1305 bound to `aad`. Output: `version(1) || kemCiphertext(1120) || sealed`.
 * The key is used once, so a fixed nonce is safe.
 */
export function sealToKem(
  recipient: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  seed?: Uint8Array,
): Uint8Array {
  let enc: { cipherText: Uint8Array; sharedSecret: Uint8Array }
  try {
    enc = ml_kem768_x25519.encapsulate(recipient, seed)
  } catch (cause) {
    throw new CryptoError('invalid-key', 'not a hybrid public key', { cause })
  }
  const key = hkdf32(enc.sharedSecret, enc.cipherText, 'valv/v1/hybrid-box')
  const sealed = xchacha20poly1305(key, NONCE, aad).encrypt(plaintext)
  const out = new Uint8Array(1 + enc.cipherText.length + sealed.length)
  out[0] = VERSION
  out.set(enc.cipherText, 1)
  out.set(sealed, 1 + enc.cipherText.length)
  return out
}

/** Open a {@link sealToKem} box. Throws `malformed` or `decrypt-failed`. */
export function openKemBox(secretKey: Uint8Array, box: Uint8Array, aad: Uint8Array): Uint8Array {
  const ctLength = 1120
  if (box[0] !== VERSION || box.length < 1 + ctLength + 16)
    throw new CryptoError('malformed', 'not a sealed box')
  const cipherText = box.subarray(1, 1 + ctLength)
  try {
    const shared = ml_kem768_x25519.decapsulate(cipherText, secretKey)
    const key = hkdf32(shared, cipherText, 'valv/v1/hybrid-box')
    return xchacha20poly1305(key, NONCE, aad).decrypt(box.subarray(1 + ctLength))
  } catch (cause) {
    throw new CryptoError('decrypt-failed', 'sealed box does not open', { cause })
  }
}
