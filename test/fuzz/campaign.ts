/** Shared by the test files: run named targets with the CI counts and assert a clean result. */
import { expect, it } from 'vitest'
import { formatReport, fuzz, HANG_MS } from './driver.js'
import { TARGETS } from './targets/index.js'

/** Inputs per target: `VALV_FUZZ_INPUTS` if set, else the target's default (20,000 unless stated). */
export const envInputs = Number(process.env.VALV_FUZZ_INPUTS ?? 0) || undefined
/** The campaign seed: `VALV_FUZZ_SEED`, default 1. */
export const seed = Number(process.env.VALV_FUZZ_SEED ?? 1)

/** One `it` per target: no crash, no hang, no heap growth past the bound, no broken invariant. */
export function campaign(names: readonly string[]): void {
  for (const name of names) {
    it(`${name}: every input is accepted or rejected with a typed error`, async () => {
      const target = await (TARGETS[name] as () => ReturnType<(typeof TARGETS)[string]>)()
      const inputs = envInputs ?? target.defaultInputs?.count ?? 20_000
      const report = await fuzz(target, inputs, seed)
      console.log(formatReport(report))
      expect(report.findings).toEqual([])
      expect(report.slowest.ms).toBeLessThan(HANG_MS)
      expect(report.inputs).toBe(inputs)
      // Both halves ran and both outcomes happened: the campaign is not vacuous.
      expect(report.accepted).toBeGreaterThan(0)
      expect(Object.keys(report.rejected).length).toBeGreaterThan(0)
    }, 600_000)
  }
}
