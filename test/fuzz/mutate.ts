/**
 * Seeded mutations of valid samples: bit flips, boundary bytes, truncation, extension, splices
 * of two samples, duplicated and deleted runs, and varuints at the boundaries that break length
 * and counter fields (0, 2^32, 2^53 − 1, 2^64 − 1, …) inserted or written over existing bytes.
 */

/** A seeded random source: `next()` is uniform in [0, 1). */
export interface Random {
  next(): number
  int(n: number): number
}

/** mulberry32 seeded by `seed` and the target name, so targets draw independent streams. */
export function rng(seed: number, salt: string): Random {
  let s = seed >>> 0
  for (let i = 0; i < salt.length; i++) s = Math.imul(s ^ salt.charCodeAt(i), 0x01000193) >>> 0
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return { next, int: (n) => Math.floor(next() * n) }
}

/** LEB128 varuint of `n` (also past 2^53, where JS numbers lose precision). */
export function varuint(n: bigint): Uint8Array {
  const out: number[] = []
  let v = n
  do {
    let byte = Number(v & 0x7fn)
    v >>= 7n
    if (v > 0n) byte |= 0x80
    out.push(byte)
  } while (v > 0n)
  return Uint8Array.from(out)
}

/** Values that break length and counter fields. */
export const BOUNDARY_VARUINTS: readonly bigint[] = [
  0n,
  1n,
  127n,
  128n,
  2n ** 31n,
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 40n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 64n - 1n,
]

const BOUNDARY_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff]

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

function randomBytes(r: Random, n: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = r.int(256)
  return out
}

type Mutation = (r: Random, b: Uint8Array, samples: readonly Uint8Array[]) => Uint8Array

const MUTATIONS: Mutation[] = [
  // bit flips
  (r, b) => {
    const out = b.slice()
    for (let k = 1 + r.int(4); k > 0 && out.length > 0; k--) {
      const j = r.int(out.length)
      out[j] = (out[j] as number) ^ (1 << r.int(8))
    }
    return out
  },
  // a boundary byte
  (r, b) => {
    const out = b.slice()
    if (out.length > 0) out[r.int(out.length)] = BOUNDARY_BYTES[r.int(BOUNDARY_BYTES.length)] ?? 0
    return out
  },
  // truncation
  (r, b) => b.slice(0, r.int(b.length + 1)),
  // extension
  (r, b) => concat(b, randomBytes(r, 1 + r.int(32))),
  // splice of two samples
  (r, b, samples) => {
    const o = samples[r.int(samples.length)] ?? b
    return concat(b.subarray(0, r.int(b.length + 1)), o.subarray(r.int(o.length + 1)))
  },
  // a boundary varuint inserted
  (r, b) => {
    const at = r.int(b.length + 1)
    const v = varuint(BOUNDARY_VARUINTS[r.int(BOUNDARY_VARUINTS.length)] ?? 0n)
    return concat(b.subarray(0, at), v, b.subarray(at))
  },
  // a boundary varuint written over 1–10 bytes (hits length prefixes and counters in place)
  (r, b) => {
    const at = r.int(b.length + 1)
    const v = varuint(BOUNDARY_VARUINTS[r.int(BOUNDARY_VARUINTS.length)] ?? 0n)
    return concat(b.subarray(0, at), v, b.subarray(Math.min(b.length, at + 1 + r.int(10))))
  },
  // a run duplicated
  (r, b) => {
    const from = r.int(b.length + 1)
    const to = Math.min(b.length, from + 1 + r.int(64))
    return concat(b.subarray(0, to), b.subarray(from, to), b.subarray(to))
  },
  // a run deleted
  (r, b) => {
    const from = r.int(b.length + 1)
    return concat(b.subarray(0, from), b.subarray(Math.min(b.length, from + 1 + r.int(64))))
  },
  // a run zeroed or filled with 0xff
  (r, b) => {
    const out = b.slice()
    const from = r.int(out.length + 1)
    out.fill(r.int(2) === 0 ? 0 : 0xff, from, Math.min(out.length, from + 1 + r.int(16)))
    return out
  },
]

/**
 * One to three stacked mutations of a random sample; one input in 32 is the sample itself, so
 * every campaign also walks the accepting path (and its invariant checks) on real input.
 */
export function mutate(r: Random, samples: readonly Uint8Array[]): Uint8Array {
  let b = samples[r.int(samples.length)] ?? new Uint8Array()
  if (r.int(32) === 0) return b.slice()
  for (let k = 1 + r.int(3); k > 0; k--) {
    b = (MUTATIONS[r.int(MUTATIONS.length)] as Mutation)(r, b, samples)
  }
  return b
}
