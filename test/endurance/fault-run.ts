/**
 * One seeded fault-injection run: a relay CLI on a durable backend, writers behind the chaos
 * proxy typing unique tokens while the proxy delays, stalls, duplicates, drops and partitions and
 * the relay is SIGKILLed and restarted. Then the faults stop and, within bounded waits, every
 * replica must converge with every typed token present exactly once, and a fresh reader straight
 * from the relay must see the same.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RelayProcess, startRelayProcess, until } from '@valv/test-utils/stack'
import { CHAOS, ChaosProxy, type ProxyCounts } from './chaos-proxy.js'
import { rng } from './seed.js'
import { logDuplicates, notExactlyOnce, readBack, settled, type, writers } from './team.js'

/** A durable backend the relay CLI runs on. */
export type Backend = 'fs' | 'sqlite' | 'postgres'

/** What a run did and measured. */
export interface RunResult extends ProxyCounts {
  readonly seed: number
  readonly backend: Backend
  readonly edits: number
  readonly kills: number
  /** Milliseconds from SIGKILL to the new relay listening, per kill. */
  readonly restartMs: number[]
  /** Milliseconds from the end of the faults until every writer settled. */
  readonly settleMs: number
}

/** Options of {@link faultRun}. */
export interface RunOptions {
  readonly seed: number
  readonly backend: Backend
  /** How long the faults last (default 3000 ms). */
  readonly durationMs?: number
  /** Editors besides the admin (default 2). */
  readonly editors?: number
  /** PostgreSQL URL for the `postgres` backend. */
  readonly postgres?: string
}

function storageUrl(backend: Backend, dir: string, postgres: string | undefined): string {
  if (backend === 'fs') return `fs:${dir}`
  if (backend === 'sqlite') return `sqlite:${join(dir, 'relay.db')}`
  if (postgres === undefined) throw new Error('postgres backend needs a URL')
  return postgres
}

/** Run once; throws (with the seed in the message) when an invariant fails. */
export async function faultRun(o: RunOptions): Promise<RunResult> {
  const random = rng(o.seed)
  const dir = mkdtempSync(join(tmpdir(), 'valv-endurance-'))
  const storage = storageUrl(o.backend, dir, o.postgres)
  let relay: RelayProcess = await startRelayProcess(['--storage', storage])
  const proxy = await ChaosProxy.start(relay.url, random)
  const restartMs: number[] = []
  try {
    const ws = await writers(proxy.url, o.editors ?? 2)
    proxy.faults = CHAOS
    const duration = o.durationMs ?? 3000
    const end = Date.now() + duration
    // At least one SIGKILL a run, at a moment the seed picks; more at random.
    let killAt = Date.now() + random.int(duration / 5, (duration * 3) / 4)
    let kills = 0
    let restarting: Promise<void> = Promise.resolve()
    while (Date.now() < end) {
      const w = ws[random.int(0, ws.length - 1)]
      if (w) type(w)
      const roll = random()
      if (roll < 0.005 || Date.now() >= killAt) {
        killAt = Number.POSITIVE_INFINITY
        // Writers keep typing offline while the relay restarts.
        await restarting
        relay.child.kill('SIGKILL')
        kills++
        const t0 = Date.now()
        restarting = startRelayProcess(['--storage', storage]).then((next) => {
          restartMs.push(Date.now() - t0)
          relay = next
          proxy.target = next.url
          proxy.resetAll()
        })
      } else if (roll < 0.025) {
        proxy.partition(random.int(50, 500))
      }
      await new Promise((r) => setTimeout(r, random.int(5, 40)))
    }
    await restarting
    proxy.faults = undefined
    const t0 = Date.now()
    await settled(ws, 30_000)
    const settleMs = Date.now() - t0
    const text = ws[0]?.provider.doc.getText('t').toString() ?? ''
    const wrong = notExactlyOnce(text, ws)
    if (wrong.length > 0) throw new Error(`seed ${o.seed}: not exactly once: ${wrong.join(' ')}`)
    const writer = ws[0]
    if (writer === undefined) throw new Error('no writer')
    const stored = await readBack(relay.url, writer)
    if (stored !== text) throw new Error(`seed ${o.seed}: relay holds another text than replicas`)
    const duplicates = await logDuplicates(relay.url, writer)
    if (duplicates.length > 0) {
      throw new Error(`seed ${o.seed}: log holds updates twice: ${duplicates.join('; ')}`)
    }
    await until(async () => (await relay.health()) === 200, 5000, 'relay healthy')
    const edits = ws.reduce((n, w) => n + w.typed.length, 0)
    return { seed: o.seed, backend: o.backend, edits, kills, restartMs, settleMs, ...proxy.counts }
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err))
    e.message = `[seed ${o.seed}, ${o.backend}] ${e.message}`
    throw e
  } finally {
    await proxy.close()
    relay.child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 })
  }
}
