/**
 * Shared types and helpers for `bench/*.bench.ts`. A benchmark module default-exports a
 * function that receives a {@link BenchContext} and returns rows; `bench/run.ts` prints them
 * and writes `bench/results/latest.json`.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'

/** What a benchmark learns about the run. */
export interface BenchContext {
  /** `--quick`: shrink workloads so the whole suite ends in under a minute. */
  readonly quick: boolean
}

/** One measured figure, with the same figure for the reference (e.g. plain Yjs) if there is one. */
export interface BenchRow {
  readonly name: string
  readonly value: number
  readonly unit: string
  /** The reference's figure measured in the same run, or null when nothing compares. */
  readonly baseline: number | null
}

/** A benchmark module's default export. */
export type Benchmark = (ctx: BenchContext) => Promise<BenchRow[]>

/** Median wall time in milliseconds of `fn` over `runs` runs after one warm-up. */
export async function medianMs(fn: () => unknown | Promise<unknown>, runs = 5): Promise<number> {
  await fn()
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    await fn()
    times.push(performance.now() - start)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)] ?? Number.NaN
}

/** Microseconds per call of `fn`, calibrated to run for about `budgetMs`. */
export async function microsPerOp(
  fn: () => unknown | Promise<unknown>,
  budgetMs = 100,
): Promise<number> {
  let n = 1
  for (;;) {
    const start = performance.now()
    for (let i = 0; i < n; i++) await fn()
    const elapsed = performance.now() - start
    if (elapsed >= budgetMs || n >= 1 << 22) return (elapsed * 1000) / n
    n *= elapsed < budgetMs / 10 ? 10 : 2
  }
}

/** p-th percentile (0..100) of a list of numbers. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

/** One edit of a text trace: delete `del` characters at `pos`, then insert `text`. */
export interface TraceEdit {
  readonly pos: number
  readonly del: number
  readonly text: string
}

/** A real editing trace from `../shared/bench-data/` (e.g. `automerge-paper`). */
export interface Trace {
  readonly name: string
  readonly edits: readonly TraceEdit[]
  readonly endContent: string
}

const here = dirname(fileURLToPath(import.meta.url))

/**
 * Where the editing traces live: `VALV_BENCH_DATA`, else `../shared/bench-data` beside the
 * checkout (this workplace's layout), else `bench/data` inside it.
 */
function traceFile(name: string): string | undefined {
  const dirs = [
    process.env.VALV_BENCH_DATA,
    join(here, '..', '..', 'shared', 'bench-data'),
    join(here, 'data'),
  ]
  for (const dir of dirs) {
    if (dir !== undefined && existsSync(join(dir, `${name}.json.gz`))) {
      return join(dir, `${name}.json.gz`)
    }
  }
  return undefined
}

/**
 * A deterministic typing session (sentences typed left to right with occasional backspaces
 * and jumps), used only when the real traces are not on this machine, so `npm run bench`
 * still runs; the table then says "synthetic" in the trace name.
 */
export function syntheticTrace(limit: number): Trace {
  const words = 'protokoll beslut ärende handläggare yttrande remiss diarium nämnd'.split(' ')
  const edits: TraceEdit[] = []
  let length = 0
  let seed = 42
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648
  }
  let cursor = 0
  while (edits.length < limit) {
    const r = next()
    if (r < 0.05 && length > 0) cursor = Math.floor(next() * length)
    if (r > 0.93 && cursor > 0) {
      edits.push({ pos: cursor - 1, del: 1, text: '' })
      cursor--
      length--
      continue
    }
    const word = `${words[Math.floor(next() * words.length)]} `
    for (const ch of word) {
      edits.push({ pos: cursor++, del: 0, text: ch })
      length++
    }
  }
  return { name: `synthetic (${limit} edits)`, edits: edits.slice(0, limit), endContent: '' }
}

/**
 * Load a trace by name; `limit` keeps only the first edits (for `--quick`). Falls back to a
 * synthetic trace (with a warning on stderr) when the trace files are not available.
 */
export function loadTrace(name: string, limit?: number): Trace {
  const file = traceFile(name)
  if (file === undefined) {
    process.stderr.write(`bench: trace ${name} not found; using a synthetic trace\n`)
    return syntheticTrace(limit ?? 20_000)
  }
  const raw = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as {
    txns: { patches: [number, number, string][] }[]
    endContent: string
  }
  const edits: TraceEdit[] = []
  for (const txn of raw.txns) {
    for (const [pos, del, text] of txn.patches) edits.push({ pos, del, text })
    if (limit !== undefined && edits.length >= limit) break
  }
  return { name, edits, endContent: limit === undefined ? raw.endContent : '' }
}
