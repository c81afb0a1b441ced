/**
 * The long fault-injection campaign, on demand: `npm run endurance -- --runs 1000`
 * (`--backends fs,sqlite,postgres`, `--duration <ms>` per run, `--seed <n>` for the first seed;
 * run i uses seed + i). Prints one line per run and the figures at the end; exits 1 if any run
 * broke an invariant, naming its seed (`VALV_SEED=<n> npx vitest run test/endurance`, or
 * `--seed <n> --runs 1` here, replays it).
 */
import { parseArgs } from 'node:util'
import { cleanup } from '@valv/test-utils/stack'
import { type Backend, faultRun, type RunResult } from './fault-run.js'
import { seedFromEnv } from './seed.js'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    backends: { type: 'string', default: 'fs,sqlite,postgres' },
    duration: { type: 'string', default: '3000' },
    seed: { type: 'string' },
    postgres: { type: 'string', default: 'postgres://root@127.0.0.1:5432/test' },
  },
})
if (values.seed !== undefined) process.env.VALV_SEED = values.seed
const first = seedFromEnv('endurance')
const runs = Number(values.runs)
const backends = (values.backends ?? '').split(',') as Backend[]
const results: RunResult[] = []
const failures: { seed: number; backend: Backend; message: string }[] = []

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? 0 : (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0)
}

const started = Date.now()
for (let i = 0; i < runs; i++) {
  const seed = (first + i) >>> 0
  const backend = backends[i % backends.length] as Backend
  try {
    const r = await faultRun({
      seed,
      backend,
      durationMs: Number(values.duration),
      postgres: values.postgres,
    })
    results.push(r)
    console.log(
      `run ${i + 1}/${runs} seed ${seed} ${backend}: ${r.edits} edits, ${r.kills} kills, ` +
        `${r.partitions} partitions, ${r.dropped} resets, ${r.duplicated} dups, settled ${r.settleMs} ms`,
    )
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    failures.push({ seed, backend, message })
    console.log(`run ${i + 1}/${runs} seed ${seed} ${backend}: FAILED ${message}`)
  } finally {
    await cleanup()
  }
}

const sum = (k: keyof RunResult) => results.reduce((n, r) => n + (r[k] as number), 0)
const restarts = results.flatMap((r) => r.restartMs)
const settles = results.map((r) => r.settleMs)
console.log(
  JSON.stringify(
    {
      runs,
      passed: results.length,
      failed: failures.length,
      failures,
      minutes: +((Date.now() - started) / 60_000).toFixed(1),
      edits: sum('edits'),
      kills: sum('kills'),
      partitions: sum('partitions'),
      connectionResets: sum('dropped'),
      duplicatedFrames: sum('duplicated'),
      stalls: sum('stalled'),
      framesProxied: sum('frames'),
      restartMsP50: pct(restarts, 50),
      restartMsMax: pct(restarts, 100),
      settleMsP50: pct(settles, 50),
      settleMsP99: pct(settles, 99),
      settleMsMax: pct(settles, 100),
    },
    null,
    2,
  ),
)
process.exit(failures.length === 0 ? 0 : 1)
