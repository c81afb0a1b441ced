/**
 * Runs every `bench/*.bench.ts` (or those whose file name contains an argument), prints one
 * table and writes `bench/results/latest.json` as `{ name, value, unit, baseline, ratio }[]`.
 * `npm run bench -- --quick` shrinks each workload.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Benchmark, BenchRow } from './harness.js'

const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const quick = args.includes('--quick')
const filters = args.filter((a) => !a.startsWith('--'))
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()

const results: (BenchRow & { ratio: number | null; suite: string })[] = []
for (const file of files) {
  const suite = file.replace(/\.bench\.ts$/, '')
  process.stderr.write(`running ${suite}${quick ? ' (quick)' : ''}…\n`)
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: Benchmark }
  for (const row of await mod.default({ quick })) {
    const ratio = row.baseline ? row.value / row.baseline : null
    results.push({ ...row, name: `${suite}: ${row.name}`, ratio, suite })
  }
}

const fmt = (n: number | null) =>
  n === null
    ? ''
    : Math.abs(n) >= 100
      ? n.toFixed(0)
      : Math.abs(n) >= 1
        ? n.toFixed(2)
        : n.toPrecision(3)
const rows = results.map((r) => [
  r.name,
  fmt(r.value),
  r.unit,
  fmt(r.baseline),
  r.ratio === null ? '' : `${fmt(r.ratio)}×`,
])
const header = ['benchmark', 'value', 'unit', 'baseline', 'ratio']
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
const line = (cells: string[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
console.log(line(header))
console.log(widths.map((w) => '-'.repeat(w)).join('  '))
for (const r of rows) console.log(line(r))

mkdirSync(join(here, 'results'), { recursive: true })
writeFileSync(
  join(here, 'results', 'latest.json'),
  `${JSON.stringify(
    results.map(({ name, value, unit, baseline, ratio }) => ({
      name,
      value,
      unit,
      baseline,
      ratio,
    })),
    null,
    2,
  )}\n`,
)
console.log(`\n${results.length} figures written to bench/results/latest.json`)
// Some benchmarks leave handles open (child relays, browsers that close lazily, keep-alive
// sockets); the results are written, so end here rather than hang CI.
process.exit(0)
