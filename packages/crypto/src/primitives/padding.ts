import { CryptoError } from '@valv/protocol'

/**
 * How plaintexts are padded before encryption, to hide exact sizes from the relay: `'none'`
 * (length prefix only), `'padme'` (see `padmeLength`) or a fixed bucket size in bytes.
 */
export type PaddingPolicy = 'none' | 'padme' | { readonly bucket: number }

/** Bytes of the big-endian u32 length prefix `pad` writes. */
export const PAD_PREFIX_LENGTH = 4

const MAX_LENGTH = 0xffff_ffff

/**
 * PADMÉ (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication with
 * PURBs", PETS 2019): round `n` up by clearing its low `e - s` mantissa bits, where
 * `e = floor(log2 n)` and `s = floor(log2 e) + 1`. The result leaks O(log log n) bits of the
 * length at a cost of at most 12 % (less for larger `n`). Monotone and idempotent.
 */
export function padmeLength(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new CryptoError('malformed', 'bad length')
  if (n < 2) return n
  const e = Math.floor(Math.log2(n))
  // Math.log2 is exact for powers of two but may round up just below one: correct it.
  const exp = 2 ** e > n ? e - 1 : 2 ** (e + 1) <= n ? e + 1 : e
  const s = Math.floor(Math.log2(exp)) + 1
  const step = 2 ** (exp - s)
  return Math.ceil(n / step) * step
}

function target(n: number, policy: PaddingPolicy): number {
  if (policy === 'none') return n
  if (policy === 'padme') return padmeLength(n)
  const { bucket } = policy
  if (!Number.isSafeInteger(bucket) || bucket < 1) {
    throw new CryptoError('malformed', 'bucket size must be a positive integer')
  }
  return Math.ceil(n / bucket) * bucket
}

/**
 * Prefix the length (big-endian u32) and append zeros up to the policy's size, which is computed
 * over `4 + bytes.length`. Layout: `length(4) || bytes || zeros`. `unpad` recovers `bytes`
 * exactly.
 *
 * @example
 * ```ts
 * pad(new Uint8Array(1000), 'padme').length // 1024
 * pad(new Uint8Array(10), { bucket: 256 }).length // 256
 * ```
 */
export function pad(bytes: Uint8Array, policy: PaddingPolicy): Uint8Array {
  if (bytes.length > MAX_LENGTH - PAD_PREFIX_LENGTH) {
    throw new CryptoError('too-large', 'value too large to pad')
  }
  const inner = bytes.length + PAD_PREFIX_LENGTH
  const out = new Uint8Array(target(inner, policy))
  new DataView(out.buffer).setUint32(0, bytes.length)
  out.set(bytes, PAD_PREFIX_LENGTH)
  return out
}

/**
 * Undo `pad`. Throws `malformed` if the prefix is missing, claims more bytes than present,
 * or the padding is not all zeros (so every padded value has exactly one valid reading).
 */
export function unpad(padded: Uint8Array): Uint8Array {
  if (padded.length < PAD_PREFIX_LENGTH)
    throw new CryptoError('malformed', 'padded value too short')
  const n = new DataView(padded.buffer, padded.byteOffset, PAD_PREFIX_LENGTH).getUint32(0)
  if (n > padded.length - PAD_PREFIX_LENGTH)
    throw new CryptoError('malformed', 'bad padding length')
  for (let i = PAD_PREFIX_LENGTH + n; i < padded.length; i++) {
    if (padded[i] !== 0) throw new CryptoError('malformed', 'non-zero padding')
  }
  return padded.slice(PAD_PREFIX_LENGTH, PAD_PREFIX_LENGTH + n)
}
