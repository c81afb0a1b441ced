/**
 * Scale-out (issue 14): messages relayed per second and end-to-end latency p50/p99 with one
 * relay node and with three, all on one PostgreSQL schema (the log) and one Redis prefix
 * (fan-out), 200 clients over 20 documents (`--quick`: 40 over 4); memory (RSS) per node.
 *
 * Each node is the `valv-relay` CLI in its own process. Per document one editor's client sends
 * real sealed envelopes (one-character Yjs updates, XChaCha20-Poly1305 and Ed25519 by a real
 * `DocumentSession`, sealed before measuring) at a fixed rate; the document's other clients only
 * receive. Clients are plain wire clients (`TestClient`, no provider), spread round-robin over
 * the nodes, so with three nodes most deliveries cross Redis. Latency is writer send → each
 * receiver's `deliver`; "messages relayed" counts deliveries to receivers per second. Every
 * run uses a fresh PostgreSQL schema and Redis prefix, dropped afterwards.
 */
import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import { Role } from '@valv/crypto'
import { sharedDocument } from '@valv/test-utils'
import { TestClient } from '@valv/test-utils/relay'
import { cleanup, publishChain, startRelayProcess } from '@valv/test-utils/stack'
import * as Y from 'yjs'
import { PostgresStorageAdapter } from '../packages/storage-postgres/src/index.js'
import {
  dropSchema,
  freshSchema,
  testConnectionString,
} from '../packages/storage-postgres/test/helpers.js'
import { type Benchmark, type BenchRow, percentile } from './harness.js'

const REDIS = 'redis://127.0.0.1:6379'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** `n` one-character updates typed in order on one Y.Doc. */
function keystrokes(n: number): Uint8Array[] {
  const doc = new Y.Doc()
  const out: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => out.push(u))
  for (let i = 0; i < n; i++) doc.getText('t').insert(i, 'x')
  return out
}

const key = (envelope: Uint8Array) => Buffer.from(envelope).toString('base64')

interface RunResult {
  /** Saturation: deliveries and acks per second. */
  readonly relayedPerSecond: number
  readonly acceptedPerSecond: number
  /** Fixed load: deliveries per second, latency p50/p99. */
  readonly pacedPerSecond: number
  readonly saturatedP50: number
  readonly p50: number
  readonly p99: number
  readonly lost: number
  readonly rssPerNodeMiB: number
}

async function run(
  nodeCount: number,
  docs: number,
  clients: number,
  rate: number,
  seconds: number,
  burst: number,
): Promise<RunResult> {
  const pg = await testConnectionString()
  const schema = freshSchema()
  const prefix = `valv-bench-${randomBytes(5).toString('hex')}:`
  const setup = new PostgresStorageAdapter({ connectionString: pg, schema })
  await setup.migrate()
  await setup.close()
  const open: TestClient[] = []
  try {
    const nodes = []
    for (let i = 0; i < nodeCount; i++) {
      nodes.push(
        await startRelayProcess([
          '--storage',
          `${pg}?schema=${schema}`,
          '--redis',
          REDIS,
          '--redis-prefix',
          prefix,
          '--node-id',
          `bench-${i}`,
          '--max-connections-per-ip',
          '100000',
          '--max-subscribers-per-doc',
          '100000',
          '--messages-per-second',
          '100000',
        ]),
      )
    }
    const perDoc = Math.floor(clients / docs)
    const updates = keystrokes(rate * seconds + burst)
    const sent = new Map<string, number>()
    const latencies: number[] = []
    let delivered = 0
    let accepted = 0
    let lastDelivery = 0
    const writers: { client: TestClient; docId: string; envelopes: Uint8Array[] }[] = []
    for (let d = 0; d < docs; d++) {
      const shared = await sharedDocument([Role.Editor])
      const docId = shared.docId
      await publishChain(nodes[d % nodeCount]!.url, docId, shared.chain())
      const editor = shared.members[0]!
      const envelopes: Uint8Array[] = []
      for (const [i, u] of updates.entries()) envelopes.push(await editor.seal('update', u, i + 1))
      for (let c = 0; c < perDoc; c++) {
        const node = nodes[(d + c) % nodeCount]!
        const client = await TestClient.ready(node.url, [docId])
        open.push(client)
        client.ws.on('message', () => {
          for (const f of client.frames.splice(0)) {
            if (c === 0) {
              if (f.type === 'ack') accepted++
            } else if (f.type === 'deliver') {
              const at = sent.get(key(f.envelope))
              if (at === undefined) continue
              const now = performance.now()
              latencies.push(now - at)
              delivered++
              lastDelivery = now
            }
          }
        })
        if (c === 0) writers.push({ client, docId, envelopes })
      }
    }
    // Phase 1, fixed offered load (latency): each writer sends `rate` envelopes a second.
    // Phase 2, saturation (throughput): each writer sends `burst` more at once, pipelined.
    const phase = async (from: number, to: number, paced: boolean) => {
      latencies.length = 0
      delivered = 0
      accepted = 0
      const expected = docs * (to - from) * (perDoc - 1)
      const start = performance.now()
      for (let i = from; i < to; i++) {
        if (paced) {
          const wait = start + ((i - from) * 1000) / rate - performance.now()
          if (wait > 0) await sleep(wait)
        }
        for (const w of writers) {
          const envelope = w.envelopes[i]!
          sent.set(key(envelope), performance.now())
          w.client.send({ type: 'envelope', docId: w.docId, ref: i + 1, envelope })
        }
      }
      const deadline = performance.now() + 30_000
      while (delivered < expected && performance.now() < deadline) await sleep(5)
      const elapsed = (Math.max(lastDelivery, start + 1) - start) / 1000
      return {
        relayed: delivered / elapsed,
        accepted: accepted / elapsed,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        lost: expected - delivered,
      }
    }
    const paced = await phase(0, rate * seconds, true)
    const saturated = await phase(rate * seconds, updates.length, false)
    const rss = await Promise.all(
      nodes.map(async (n) =>
        Number(/^process_resident_memory_bytes(?:\{[^}]*\})? (\d+)/m.exec(await n.metrics())?.[1]),
      ),
    )
    return {
      relayedPerSecond: saturated.relayed,
      acceptedPerSecond: saturated.accepted,
      pacedPerSecond: paced.relayed,
      p50: paced.p50,
      p99: paced.p99,
      saturatedP50: saturated.p50,
      lost: paced.lost + saturated.lost,
      rssPerNodeMiB: rss.reduce((a, b) => a + b, 0) / rss.length / 2 ** 20,
    }
  } finally {
    for (const c of open) c.ws.terminate()
    await cleanup()
    await dropSchema(pg, schema)
  }
}

const bench: Benchmark = async ({ quick }) => {
  const docs = quick ? 4 : 20
  const clients = quick ? 40 : 200
  const rate = quick ? 10 : 5
  const seconds = quick ? 3 : 10
  const burst = quick ? 50 : 200
  const rows: BenchRow[] = []
  const load = loadavg()[0]!.toFixed(1)
  const [one, three] = [
    await run(1, docs, clients, rate, seconds, burst),
    await run(3, docs, clients, rate, seconds, burst),
  ] as [RunResult, RunResult]
  const what = `${clients} clients / ${docs} docs, load ${load}`
  rows.push(
    {
      name: `messages relayed at saturation (deliveries/s), 3 nodes vs 1 (${what})`,
      value: three.relayedPerSecond,
      unit: 'msg/s',
      baseline: one.relayedPerSecond,
    },
    {
      name: `envelopes accepted at saturation (${burst}/doc sent at once), 3 nodes vs 1`,
      value: three.acceptedPerSecond,
      unit: 'msg/s',
      baseline: one.acceptedPerSecond,
    },
    {
      name: `messages relayed at fixed load (${rate} env/s per doc), 3 nodes vs 1`,
      value: three.pacedPerSecond,
      unit: 'msg/s',
      baseline: one.pacedPerSecond,
    },
    {
      name: 'latency p50 at fixed load, 3 nodes vs 1',
      value: three.p50,
      unit: 'ms',
      baseline: one.p50,
    },
    {
      name: 'latency p99 at fixed load, 3 nodes vs 1',
      value: three.p99,
      unit: 'ms',
      baseline: one.p99,
    },
    {
      name: 'latency p50 at saturation (queueing included), 3 nodes vs 1',
      value: three.saturatedP50,
      unit: 'ms',
      baseline: one.saturatedP50,
    },
    {
      name: 'deliveries missing after 30 s, 3 nodes vs 1',
      value: three.lost,
      unit: 'msg',
      baseline: one.lost,
    },
    {
      name: 'RSS per node after the run, 3 nodes vs 1',
      value: three.rssPerNodeMiB,
      unit: 'MiB',
      baseline: one.rssPerNodeMiB,
    },
  )
  return rows
}

export default bench
