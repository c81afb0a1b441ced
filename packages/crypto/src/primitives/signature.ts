import { ed25519 } from '@noble/curves/ed25519.js'
import { CryptoError, domainMessage, ed25519VerifyStrict } from '@valv/protocol'

export { verifyDomain } from '@valv/protocol'

/** An Ed25519 key pair: 32-byte public key, 32-byte secret key (the RFC 8032 seed). */
export interface SigningKeyPair {
  /** Public key, safe to publish. */
  readonly publicKey: Uint8Array
  /** Secret key; never leaves the device unencrypted. */
  readonly secretKey: Uint8Array
}

/** Ed25519 signature length in bytes. */
export const SIGNATURE_LENGTH = 64

/**
 * A fresh Ed25519 key pair, or the one determined by a 32-byte `seed` (test vectors, and keys
 * derived by HKDF from another secret).
 */
export function generateSigningKeyPair(seed?: Uint8Array): SigningKeyPair {
  if (seed !== undefined && seed.length !== 32) {
    throw new CryptoError('invalid-key', 'an Ed25519 seed is 32 bytes')
  }
  const secretKey = seed === undefined ? ed25519.utils.randomSecretKey() : seed.slice()
  return { publicKey: ed25519.getPublicKey(secretKey), secretKey }
}

/**
 * Sign raw bytes. Prefer `signDomain`: a raw signature could be replayed in another
 * context that signs the same bytes.
 */
export function sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  if (secretKey.length !== 32) throw new CryptoError('invalid-key', 'an Ed25519 key is 32 bytes')
  return ed25519.sign(message, secretKey)
}

/**
 * Verify an Ed25519 signature under Valv's one acceptance rule (`ed25519VerifyStrict` of
 * `@valv/protocol`: canonical encodings, `S < L`, no small-order points, cofactorless), so
 * signatures are not malleable. Never throws: wrong lengths, invalid points or garbage simply
 * return `false`.
 */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return ed25519VerifyStrict(signature, message, publicKey)
}

/**
 * Sign `domainMessage(domain, ...parts)`: the varint-length-prefixed string `valv/v1/<domain>`
 * followed by each part, length-prefixed. A signature made for one purpose therefore never
 * verifies for another, and no two part lists share an encoding. Check with `verifyDomain`.
 *
 * @example
 * ```ts
 * const user = generateSigningKeyPair()
 * const deviceKey = generateSigningKeyPair().publicKey
 * const sig = signDomain('device-cert', user.secretKey, deviceKey)
 * verifyDomain('device-cert', user.publicKey, sig, deviceKey) // true
 * ```
 */
export function signDomain(
  domain: string,
  secretKey: Uint8Array,
  ...parts: Uint8Array[]
): Uint8Array {
  return sign(secretKey, domainMessage(domain, ...parts))
}
