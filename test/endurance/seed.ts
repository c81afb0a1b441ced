/** A seeded pseudo-random generator (mulberry32): every fault decision of a run comes from it. */
export type Rng = {
  /** Uniform in [0, 1). */
  (): number
  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number
  /** True with probability `p`. */
  chance(p: number): boolean
}

/** The generator for `seed` (a 32-bit unsigned integer). */
export function rng(seed: number): Rng {
  let a = seed >>> 0
  const next = (() => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }) as Rng
  next.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1))
  next.chance = (p) => next() < p
  return next
}

/** The seed from `VALV_SEED`, or a fresh one; printed so a failing run can be replayed. */
export function seedFromEnv(label: string): number {
  const given = process.env.VALV_SEED
  const seed = given !== undefined ? Number(given) >>> 0 : (Math.random() * 2 ** 32) >>> 0
  console.log(`${label}: seed ${seed} (rerun with VALV_SEED=${seed})`)
  return seed
}
