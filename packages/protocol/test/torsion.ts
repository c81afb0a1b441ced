import { ed25519 } from '@noble/curves/ed25519.js'
import { sha512 } from '@noble/hashes/sha2.js'

const Point = ed25519.Point
const L = Point.Fn.ORDER

/** A point of order 8 (C2SP CCTV ed25519 README). */
export const ORDER_8 = Point.fromHex(
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
)

function le(bytes: Uint8Array): bigint {
  let n = 0n
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] as number)
  return n
}

function scalarBytes(n: bigint): Uint8Array {
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 255n)
    n >>= 8n
  }
  return out
}

/**
 * Sign `message` with the Ed25519 seed `secret`, but with `R = r·B + T` for a small-order `T`:
 * the signature satisfies the cofactored equation (so only the key holder can make it) and fails
 * the cofactorless one. This is what a malicious member does to split verifiers.
 */
export function signWithTorsion(
  message: Uint8Array,
  secret: Uint8Array,
  torsion = ORDER_8,
): Uint8Array {
  const { scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(secret)
  const r = (le(sha512(message)) + 12345n) % L
  const R = Point.BASE.multiply(r).add(torsion).toBytes()
  const k = le(sha512.create().update(R).update(pointBytes).update(message).digest()) % L
  const s = (r + k * scalar) % L
  const sig = new Uint8Array(64)
  sig.set(R)
  sig.set(scalarBytes(s), 32)
  return sig
}
