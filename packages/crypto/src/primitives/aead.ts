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
  /** XChaCha20-Poly1305 (192-bit random nonces): the default, fastest in pure JS. */
  XChaCha20Poly1305: 1,
  /** AES-256-GCM with a per-message HKDF subkey (for agencies that require AES). */
  Aes256Gcm: 2,
} as const

/** One of the `Suite` values. */
export type SuiteId = (typeof Suite)[keyof typeof Suite]

/** Nonce length of every suite: 24 random bytes. */
export const AEAD_NONCE_LENGTH = 24

/** Authentication tag length of every suite. */
export const AEAD_TAG_LENGTH = 16

/** Bytes an AEAD adds to a plaintext: 24-byte nonce plus 16-byte tag. */
export const AEAD_OVERHEAD = 40

/** HKDF info of the AES-256-GCM per-message subkey. */
const GCM_SUBKEY_INFO = 'valv/v1/aead/aes-256-gcm/subkey'

/** Whether `n` is a suite this implementation supports. */
export function isSupportedSuite(n: number): n is SuiteId {
  return n === Suite.XChaCha20Poly1305 || n === Suite.Aes256Gcm
}

function checkArgs(suite: number, key: Uint8Array): void {
  if (!isSupportedSuite(suite)) {
    throw new CryptoError('unsupported-suite', `cipher suite ${suite} is not supported`)
  }
  if (key.length !== 32) throw new CryptoError('invalid-key', 'AEAD keys are 32 bytes')
}

function cipher(suite: number, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array) {
  checkArgs(suite, key)
  if (suite === Suite.XChaCha20Poly1305) return xchacha20poly1305(key, nonce, aad)
  // Random 96-bit GCM nonces under one key reach the birthday bound (NIST: 2^32 messages). A
  // subkey derived from the first 12 nonce bytes and a GCM nonce from the last 12 give 192 random
  // bits per message, like XChaCha, so one epoch key may seal any number of messages.
  const subkey = hkdf32(key, nonce.subarray(0, 12), GCM_SUBKEY_INFO)
  return gcm(subkey, nonce.subarray(12, AEAD_NONCE_LENGTH), aad)
}

/**
 * Encrypt with a caller-chosen 24-byte nonce. For test vectors only: a repeated nonce under one
 * key breaks confidentiality and authenticity.
 */
export function aeadSealWithNonce(
  suite: SuiteId,
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  if (nonce.length !== AEAD_NONCE_LENGTH) throw new CryptoError('malformed', 'nonce is 24 bytes')
  const ct = cipher(suite, key, nonce, aad).encrypt(plaintext)
  const out = new Uint8Array(AEAD_NONCE_LENGTH + ct.length)
  out.set(nonce)
  out.set(ct, AEAD_NONCE_LENGTH)
  return out
}

/**
 * Encrypt `plaintext` under a 32-byte key, bound to `aad`: returns
 * `nonce(24) || ciphertext || tag(16)`, `AEAD_OVERHEAD` bytes longer than the plaintext.
 *
 * @example
 * ```ts
 * const key = crypto.getRandomValues(new Uint8Array(32))
 * const header = utf8('doc-1/update') // authenticated, not encrypted
 * const sealed = aeadSeal(Suite.XChaCha20Poly1305, key, utf8('hello'), header)
 * aeadOpen(Suite.XChaCha20Poly1305, key, sealed, header) // utf8('hello')
 * ```
 */
export function aeadSeal(
  suite: SuiteId,
  key: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  return aeadSealWithNonce(suite, key, randomBytes(AEAD_NONCE_LENGTH), plaintext, aad)
}

/**
 * Decrypt `aeadSeal` output. Throws `decrypt-failed` on any change to the bytes or the
 * aad and on a wrong key, `unsupported-suite` or `invalid-key` on bad arguments.
 */
export function aeadOpen(
  suite: SuiteId,
  key: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  checkArgs(suite, key)
  if (sealed.length < AEAD_OVERHEAD) throw new CryptoError('decrypt-failed', 'ciphertext too short')
  const c = cipher(suite, key, sealed.subarray(0, AEAD_NONCE_LENGTH), aad)
  try {
    return c.decrypt(sealed.subarray(AEAD_NONCE_LENGTH))
  } catch (cause) {
    throw new CryptoError('decrypt-failed', 'authenticated decryption failed', { cause })
  }
}

/**
 * A 32-byte commitment to a key: HMAC-SHA256 keyed by it over `valv/v1/key-commitment`.
 * Poly1305 and GCM are not key-committing (one ciphertext can be crafted to open under two
 * keys). Recording this value for every epoch in the signed membership chain, and accepting only
 * the key that matches it, makes the scheme committing: finding a second key with the same
 * commitment means a SHA-256 collision.
 */
export function keyCommitment(key: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new CryptoError('invalid-key', 'AEAD keys are 32 bytes')
  return hmac256(key, utf8('valv/v1/key-commitment'))
}
