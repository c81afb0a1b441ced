import { sha256 } from '@noble/hashes/sha2.js'
import * as encoding from 'lib0/encoding'
import { CryptoError } from './errors.js'

/** UTF-8 bytes of `s`. */
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

/**
 * An unsigned integer as 8 bytes, big-endian: the one encoding of integers inside signed,
 * hashed and derived inputs (admission signatures, payload associated data, epoch-key salts,
 * device certificates). Fixed width, so every language encodes it the same way
 * (docs/protocol.md, "Encoding"). Throws `malformed` for anything but a safe integer ≥ 0.
 */
export function u64Bytes(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new CryptoError('malformed', 'integer must be a safe integer >= 0')
  }
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(n))
  return out
}

/** Constant-time equality of two byte arrays. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}

/** Lower-case hex of `b` (for map keys and logs of public values only). */
export function toHex(b: Uint8Array): string {
  let s = ''
  for (const x of b) s += HEX[x] as string
  return s
}

/** Two hex digits per byte value: `toHex` runs per chain entry and per envelope. */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Unpadded base64url of `b`. */
export function toBase64Url(b: Uint8Array): string {
  let bin = ''
  for (const x of b) bin += String.fromCharCode(x)
  return btoa(bin).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
}

/** Bytes of an unpadded base64url string; `undefined` if it is not one. */
export function fromBase64Url(s: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return undefined
  const bin = atob(s.replaceAll('-', '+').replaceAll('_', '/'))
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

/**
 * The message a domain-separated signature covers: the length-prefixed domain string
 * `valv/v1/<domain>` followed by each part, length-prefixed, so no two (domain, parts) tuples
 * share bytes and no signature made for one purpose verifies for another.
 */
export function domainMessage(domain: string, ...parts: Uint8Array[]): Uint8Array {
  // The bytes of lib0's writeVarString and writeVarUint8Array, written into one buffer of the
  // exact size: every signature check of a chain entry (kilobytes) builds one.
  const label = utf8(`valv/v1/${domain}`)
  let length = varUintLength(label.length) + label.length
  for (const p of parts) length += varUintLength(p.length) + p.length
  const out = new Uint8Array(length)
  let at = putVarUint(out, 0, label.length)
  out.set(label, at)
  at += label.length
  for (const p of parts) {
    at = putVarUint(out, at, p.length)
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Bytes of `n` as a varuint (7 bits a byte, low first). */
function varUintLength(n: number): number {
  let bytes = 1
  for (; n > 0x7f; n = Math.floor(n / 128)) bytes++
  return bytes
}

/** Write `n` as a varuint at `at`; returns the position after it. */
function putVarUint(out: Uint8Array, at: number, n: number): number {
  for (; n > 0x7f; n = Math.floor(n / 128)) out[at++] = 0x80 | (n & 0x7f)
  out[at++] = n
  return at
}

/** SHA-256 of a domain message (used for chain hashes and ids). */
export function domainHash(domain: string, ...parts: Uint8Array[]): Uint8Array {
  // The bytes of domainMessage, streamed: a chain entry (kilobytes, hashed once per entry on
  // every catch-up) goes to the hash as it is instead of being copied into one buffer first.
  const hash = sha256.create()
  let enc = encoding.createEncoder()
  encoding.writeVarString(enc, `valv/v1/${domain}`)
  for (const p of parts) {
    encoding.writeVarUint(enc, p.length)
    if (p.length < STREAM_FROM) {
      encoding.writeUint8Array(enc, p)
      continue
    }
    hash.update(encoding.toUint8Array(enc)).update(p)
    enc = encoding.createEncoder()
  }
  return hash.update(encoding.toUint8Array(enc)).digest()
}

/**
 * {@link domainHash} through the platform's native SHA-256 (WebCrypto `digest`) where it has
 * one, else in JavaScript: the same bytes either way. Native digests run off the main thread
 * and in parallel, so a catch-up hashing hundreds of entries starts them all together.
 */
export async function domainHashAsync(domain: string, ...parts: Uint8Array[]): Promise<Uint8Array> {
  const subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle
  if (subtle === undefined) return domainHash(domain, ...parts)
  const message = domainMessage(domain, ...parts) as Uint8Array<ArrayBuffer>
  try {
    return new Uint8Array(await subtle.digest('SHA-256', message))
  } catch {
    return sha256(message)
  }
}

/** Parts at least this long are hashed in place by {@link domainHash}. */
const STREAM_FROM = 256
