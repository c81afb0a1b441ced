import { gcm } from '@noble/ciphers/aes.js'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { CryptoError, utf8 } from '@valv/protocol'
import { randomBytes } from './bytes.js'
import { hkdf32, hmac256 } from './kdf.js'

/**
 * Versioned AEAD suites. A suite number is bound into every envelope header, so a suite can be
 * added or retired later; readers refuse suites they do not know.
 */
export const Suite = {
  /** XChaCha20-Poly1305 (192-bit random nonces): the default. */
  XChaCha20Poly1305: 1,
  /** AES-256-GCM with a per-message HKDF subkey (for agencies that require AES). */
  Aes256Gcm: 2,
} as const

/** One of the {@link Suite} values. */
export type SuiteId = (typeof Suite)[keyof typeof Suite]

/** Bytes an AEAD adds to a plaintext: 24-byte nonce plus 16-byte tag. */
export const AEAD_OVERHEAD = 40

/** Whether `n` is a suite this implementation supports. */
export function isSupportedSuite(n: number): n is SuiteId {
  return n === Suite.XChaCha20Poly1305 || n === Suite.Aes256Gcm
}

function cipher(suite: number, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array) {
  if (key.length !== 32) throw new CryptoError('invalid-key', 'AEAD keys are 32 bytes')
  if (suite === Suite.XChaCha20Poly1305) return xchacha20poly1305(key, nonce, aad)
  if (suite === Suite.Aes256Gcm) {
    // Random 96-bit GCM nonces under one key hit the birthday bound after ~2^32 messages; a
    // per-message subkey from half the 24-byte nonce removes that limit.
    const subkey = hkdf32(key, nonce.subarray(0, 12), 'valv/v1/aead/aes-256-gcm/subkey')
    return gcm(subkey, nonce.subarray(12, 24), aad)
  }
  throw new CryptoError('unsupported-suite', `cipher suite ${suite} is not supported`)
}

/** Encrypt with a given 24-byte nonce (test vectors only; never reuse a nonce). */
export function aeadSealWithNonce(
  suite: SuiteId,
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  const ct = cipher(suite, key, nonce, aad).encrypt(plaintext)
  const out = new Uint8Array(24 + ct.length)
  out.set(nonce)
  out.set(ct, 24)
  return out
}

/** Encrypt `plaintext` bound to `aad`: returns `nonce(24) || ciphertext || tag(16)`. */
export function aeadSeal(
  suite: SuiteId,
  key: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  return aeadSealWithNonce(suite, key, randomBytes(24), plaintext, aad)
}

/** Decrypt {@link aeadSeal} output. Throws `decrypt-failed` on any change, wrong key or aad. */
export function aeadOpen(
  suite: SuiteId,
  key: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  if (sealed.length < AEAD_OVERHEAD) throw new CryptoError('decrypt-failed', 'ciphertext too short')
  const c = cipher(suite, key, sealed.subarray(0, 24), aad)
  try {
    return c.decrypt(sealed.subarray(24))
  } catch (cause) {
    throw new CryptoError('decrypt-failed', 'authenticated decryption failed', { cause })
  }
}

/**
 * A 32-byte commitment to a key (HMAC-SHA256 keyed by it over a fixed label). Recorded in the
 * signed membership chain for every epoch, it makes the scheme key-committing: readers accept
 * only the one key matching the commitment, so no ciphertext can be valid under two accepted
 * keys even though Poly1305 and GCM alone are not committing.
 */
export function keyCommitment(key: Uint8Array): Uint8Array {
  return hmac256(key, utf8('valv/v1/key-commitment'))
}
