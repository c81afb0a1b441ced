/**
 * `npm run fuzz [-- --inputs N] [--seed S] [target …]`: the long campaign (default 1,000,000
 * inputs per target), printing per-target counts, rejections by code and the slowest input.
 * Exits non-zero on any finding.
 */
import { formatReport, fuzz } from './driver.js'
import { TARGETS } from './targets/index.js'

const args = process.argv.slice(2)
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const inputs = flag('--inputs', 1_000_000)
const seed = flag('--seed', Date.now() % 2 ** 31)
const names = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'))
const chosen = names.length > 0 ? names : Object.keys(TARGETS)
let failed = false
console.log(`fuzz campaign: seed ${seed}, ${inputs} inputs per target`)
for (const name of chosen) {
  const build = TARGETS[name]
  if (build === undefined)
    throw new Error(`no target ${name}; known: ${Object.keys(TARGETS).join(', ')}`)
  const report = await fuzz(await build(), inputs, seed)
  console.log(formatReport(report))
  if (report.findings.length > 0) failed = true
}
process.exit(failed ? 1 : 0)
