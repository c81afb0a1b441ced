import { hkdf } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes } from '@noble/hashes/utils.js'
import { CryptoError, utf8 } from '@valv/protocol'

/** Prefix of every HKDF `info` and every signature domain: the protocol's version namespace. */
export const DOMAIN_PREFIX = 'valv/v1/'

/** Longest HKDF-SHA256 output (RFC 5869: 255 blocks of 32 bytes). */
export const HKDF_MAX_LENGTH = 255 * 32

/**
 * HKDF-SHA256 (RFC 5869) to `n` bytes. `info` must be a `valv/v1/…` string naming the purpose,
 * so no two uses of one secret can ever derive the same key (domain separation); a string
 * without the prefix is a programming error and throws `malformed`, and so does a length
 * outside 1 … {@link HKDF_MAX_LENGTH} (never an empty key, never a library error).
 */
export function hkdfN(ikm: Uint8Array, salt: Uint8Array, info: string, n: number): Uint8Array {
  if (!info.startsWith(DOMAIN_PREFIX)) {
    throw new CryptoError('malformed', `HKDF info must start with '${DOMAIN_PREFIX}'`)
  }
  if (!Number.isInteger(n) || n < 1 || n > HKDF_MAX_LENGTH) {
    throw new CryptoError('malformed', `HKDF output length must be 1 … ${HKDF_MAX_LENGTH} bytes`)
  }
  return hkdf(sha256, ikm, salt, utf8(info), n)
}

/** HKDF-SHA256 to a 32-byte (256-bit) key; see `hkdfN`. */
export function hkdf32(ikm: Uint8Array, salt: Uint8Array, info: string): Uint8Array {
  return hkdfN(ikm, salt, info, 32)
}

/**
 * HMAC-SHA256 of the concatenated parts. Concatenation is not injective, so callers either pass
 * fixed-length parts or a single `domainMessage(...)` from `@valv/protocol`.
 */
export function hmac256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  return hmac(sha256, key, parts.length === 1 ? (parts[0] as Uint8Array) : concatBytes(...parts))
}
