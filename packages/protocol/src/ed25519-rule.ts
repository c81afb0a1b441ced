import { ed25519 } from '@noble/curves/ed25519.js'
import { sha512 } from '@noble/hashes/sha2.js'

/**
 * Valv's one Ed25519 acceptance rule (docs/crypto-primitives.md § Ed25519 acceptance rule).
 * A signature `R ‖ S` by public key `A` on message `M` is accepted iff
 *
 * 1. `S < L` (the group order);
 * 2. `A` and `R` are canonical encodings: `y < p`, and no sign bit on a point with `x = 0`;
 * 3. neither `A` nor `R` is one of the eight small-order points;
 * 4. `A` decodes, and `encode([S]B − [k]A)` equals the bytes of `R`, with
 *    `k = SHA-512(R ‖ A ‖ M) mod L` (the cofactorless equation).
 *
 * Steps 1–3 are byte comparisons and run in JavaScript on every path, so that platform
 * libraries which skip some of them (OpenSSL accepts small-order keys, for instance) cannot
 * change a verdict. Step 4 is the equation every WebCrypto Ed25519 implementation uses, so the
 * native fast path and {@link ed25519VerifyStrict} agree on every input.
 */

const L = ed25519.Point.Fn.ORDER
const Point = ed25519.Point

function hex(h: string): Uint8Array {
  return Uint8Array.from(h.match(/../g) ?? [], (b) => Number.parseInt(b, 16))
}

/** Canonical encodings of the eight small-order points (C2SP CCTV ed25519 README). */
const SMALL_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map(hex)

/** The two points with `x = 0` (y = 1, y = −1) written with the sign bit set: "−0". */
const NEGATIVE_ZERO = [
  '0100000000000000000000000000000000000000000000000000000000000080',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
].map(hex)

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number)
  return d === 0
}

function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] as number)
  return n
}

/** `y` (the low 255 bits) is below p = 2^255 − 19. */
function canonicalY(point: Uint8Array): boolean {
  if (((point[31] as number) & 0x7f) !== 0x7f) return true
  for (let i = 30; i >= 1; i--) if (point[i] !== 0xff) return true
  return (point[0] as number) < 0xed
}

/** Rule steps 2 and 3 for one point encoding. */
function acceptablePoint(point: Uint8Array): boolean {
  if (!canonicalY(point)) return false
  for (const bad of NEGATIVE_ZERO) if (sameBytes(point, bad)) return false
  for (const bad of SMALL_ORDER) if (sameBytes(point, bad)) return false
  return true
}

/**
 * Steps 1–3 of the rule: lengths, `S < L`, canonical and not small-order `A` and `R`. Pure byte
 * checks; a signature that fails them never reaches an equation.
 */
export function ed25519Encodings(signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false
  if (littleEndian(signature.subarray(32)) >= L) return false
  return acceptablePoint(publicKey) && acceptablePoint(signature.subarray(0, 32))
}

/**
 * The whole rule in pure JavaScript (@noble/curves point arithmetic): the synchronous path, and
 * the asynchronous one where WebCrypto lacks Ed25519. Never throws.
 */
export function ed25519VerifyStrict(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (!ed25519Encodings(signature, publicKey)) return false
  try {
    const r = signature.subarray(0, 32)
    const A = Point.fromBytes(publicKey, false)
    const k = littleEndian(sha512.create().update(r).update(publicKey).update(message).digest()) % L
    const s = littleEndian(signature.subarray(32))
    const check = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k))
    return sameBytes(check.toBytes(), r)
  } catch {
    return false
  }
}

/**
 * Whether a signature the rule refused was nonetheless made by the holder of `publicKey`'s
 * secret: it passes the cofactored equation `[8][S]B = [8]R + [8][k]A` with `S < L` and a
 * `A` that is not small-order. Nobody else can produce such a signature (a torsion-laden `R`
 * changes `k`), whereas `S + L` malleates anyone's valid signature, so it does not count. Lets a
 * reader blame the author, not whoever delivered the bytes.
 */
export function ed25519SignedAnyway(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false
  try {
    if (littleEndian(signature.subarray(32)) >= L) return false
    const A = Point.fromBytes(publicKey, true)
    if (A.isSmallOrder()) return false
    return ed25519.verify(signature, message, publicKey, { zip215: true })
  } catch {
    return false
  }
}
