/**
 * Load and soak generator, in its own processes: `npm run load -- --connections 10000`,
 * `npm run soak -- --minutes 30`.
 *
 * Starts the relay CLI as a child process (SQLite store in a temporary directory, loopback only),
 * creates `--docs` documents (real `DocumentSession`s; the admin's provider writes each
 * membership chain) and seals each writer's keystrokes (real Yjs one-character updates,
 * encrypted and Ed25519-signed, which the relay verifies): in bulk before measuring, or (soak)
 * continuously ahead of sending. Per document one writer types `--rate` keystrokes/s and sends a
 * signed presence frame every `--presence` s, and one observer decodes deliveries to time them;
 * both live in this process. The other connections are readers spread over the documents, held
 * by `--procs` reader processes (`bench/load-readers.ts`, raw WebSocket clients that count
 * frames), so that reading tens of thousands of frames a second does not delay the observers.
 *
 * Levels (default): at 100, 1,000, 5,000 and 10,000 connections (up to `--connections`) it
 * measures for `--window` s: connections held, messages/s through the relay (its own counters),
 * keystroke latency (writer send → observer delivery) p50/p99, relay CPU, RSS and heap,
 * generator CPU, and the machine's load average (other jobs share the cores).
 *
 * Soak (`--minutes N`): holds `--connections` for N minutes with `--churn` reader reconnects/s,
 * samples relay RSS and heap every `--sample` s, and fits a least-squares slope (MiB/min) to the
 * samples after the warm-up (`--warmup` s, default a quarter of the run), and to the heap's
 * floor (the lowest sample of each sixth of the steady part: a leak lifts the floor of the
 * collector's sawtooth). `--json` prints one
 * JSON summary line last (used by `test/endurance/soak.test.ts`).
 *
 * `--cpu-prof` writes a V8 CPU profile of the relay to `bench/results/`. Bounded in count and
 * time; stops by itself.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { DocumentSession, Identity } from '../packages/crypto/src/index.js'
import {
  WebsocketProvider,
  type WebsocketProviderOptions,
} from '../packages/provider-websocket/src/index.js'
import { decodeFrame, encodeFrame, type Frame, WIRE_VERSION } from '../packages/wire/src/index.js'
import type { ReaderCommand, ReaderReport } from './load-readers.js'

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000' },
    docs: { type: 'string', default: '50' },
    rate: { type: 'string', default: '4' },
    window: { type: 'string', default: '10' },
    presence: { type: 'string', default: '5' },
    procs: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    storage: { type: 'string', default: 'sqlite' },
    minutes: { type: 'string' },
    sample: { type: 'string', default: '5' },
    warmup: { type: 'string' },
    churn: { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
  },
})
// Bounds: connections, processes and time are all capped, whatever the arguments say.
const MAX = Math.min(Number(values.connections), 20_000)
const DOCS = Number(values.docs)
const RATE = Number(values.rate)
const WINDOW_S = Number(values.window)
const PRESENCE_S = Number(values.presence)
const SOAK_MIN = values.minutes === undefined ? 0 : Math.min(Number(values.minutes), 24 * 60)
const SAMPLE_S = Number(values.sample)
const WARMUP_S = values.warmup === undefined ? (SOAK_MIN * 60) / 4 : Number(values.warmup)
const CHURN = Number(values.churn)
const READERS = Math.max(0, MAX - 2 * DOCS)
const PROCS = Math.max(1, Math.min(8, Number(values.procs ?? Math.ceil(READERS / 5000))))
const LEVELS =
  SOAK_MIN > 0
    ? [MAX]
    : [...new Set([100, 1000, 5000, 10_000].filter((n) => n < MAX).concat(MAX))]
        .filter((n) => n >= 2 * DOCS)
        .sort((a, b) => a - b)
const log = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`)

const dir = mkdtempSync(join(tmpdir(), 'valv-load-'))
const relayArgs = [
  ...(values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir=bench/results'] : []),
  '--import',
  'tsx',
  'packages/relay/src/cli.ts',
  '--port',
  '0',
  '--storage',
  values.storage === 'memory' ? 'memory:' : `sqlite:${join(dir, 'relay.db')}`,
  '--max-connections-per-ip',
  '100000',
  '--max-subscribers-per-doc',
  '100000',
]

async function startRelay(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, relayArgs, { stdio: ['ignore', 'pipe', 'inherit'] })
  const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (c) => reject(new Error(`relay exited ${c}`)))
    rl.on('line', (line) => {
      if (!line.includes('"listening"')) return
      resolve((JSON.parse(line) as { port: number }).port)
    })
  })
  return { child, port }
}

/** CPU seconds (user + system) the process with `pid` used so far. */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return (Number(f[11]) + Number(f[12])) / 100
  } catch {
    return 0
  }
}

const MiB = 1024 * 1024

/** The relay's own counters and memory, from `GET /metrics`. */
async function relayMetrics(port: number): Promise<{
  messages: number
  connections: number
  rss: number
  heap: number
}> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const get = (name: string) => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1] ?? 0)
  return {
    messages: get('valv_relay_messages_in_total') + get('valv_relay_messages_out_total'),
    connections: get('valv_relay_connections'),
    rss: get('process_resident_memory_bytes') / MiB,
    heap: get('nodejs_heap_used_bytes') / MiB,
  }
}

/** A `ws` client (writers and observers): authenticated and subscribed to `docId`. */
async function open(url: string, docId: string, onFrame: (f: Frame) => void) {
  const ws = new WebSocket(url)
  ws.binaryType = 'nodebuffer'
  let synced: (head: number) => void = () => undefined
  let failed: (e: Error) => void = () => undefined
  const done = new Promise<number>((resolve, reject) => {
    synced = resolve
    failed = reject
  })
  ws.on('message', (b: Buffer) => {
    const f = decodeFrame(new Uint8Array(b))
    if (f.type === 'synced') synced(f.headSeq)
    onFrame(f)
  })
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  ws.once('close', (code) => failed(new Error(`closed ${code} before synced`)))
  ws.send(encodeFrame({ type: 'auth', version: WIRE_VERSION, token: '' }))
  ws.send(encodeFrame({ type: 'subscribe', docId, sinceSeq: 0, snapshotSeq: 0, membershipFrom: 0 }))
  return { ws, headSeq: await done }
}

const stats = { sent: 0, acked: 0, errors: 0, presence: 0 }
const latencies: number[] = []

interface Document {
  readonly docId: string
  readonly admin: DocumentSession
  /** The writer's text; each keystroke is one insert, so one Yjs update. */
  readonly y: Y.Doc
  readonly updates: Uint8Array[]
  /** Sealed keystrokes not sent yet. */
  readonly sealed: Uint8Array[]
  counter: number
  sealing: boolean
  ref: number
  base: number
  presence: Uint8Array
  /** When its next keystroke and presence frame are due (`performance.now()`). */
  due: number
  presenceDue: number
  readonly sentAt: Map<number, number>
  writer?: WebSocket
}

async function setUpDocument(url: string): Promise<Document> {
  const admin = await DocumentSession.create(await Identity.create({ displayName: 'w' }))
  const p = new WebsocketProvider({
    url,
    doc: new Y.Doc(),
    docId: admin.docId,
    document: admin,
    WebSocketPolyfill: WebSocket as never,
  } as WebsocketProviderOptions)
  await admin.attach(p)
  await p.whenSynced()
  await p.destroy()
  const y = new Y.Doc()
  const updates: Uint8Array[] = []
  y.on('update', (u: Uint8Array) => updates.push(u))
  const presence = await admin.seal('presence', new TextEncoder().encode('{"cursor":0}'), 0)
  return {
    docId: admin.docId,
    admin,
    y,
    updates,
    sealed: [],
    counter: 1000,
    sealing: false,
    ref: 0,
    base: 0,
    presence,
    due: 0,
    presenceDue: 0,
    sentAt: new Map(),
  }
}

/** Seal `n` more keystrokes of `d` (real Yjs updates, encrypted and signed). */
async function sealMore(d: Document, n: number): Promise<void> {
  const text = d.y.getText('t')
  for (let i = 0; i < n; i++) text.insert(text.length, 'x')
  for (const u of d.updates.splice(0)) {
    d.sealed.push(await d.admin.seal('update', u, ++d.counter))
  }
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0
    ? Number.NaN
    : (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0)
}

/** Least-squares slope of `ys` over `xs`. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length
  if (n < 2) return Number.NaN
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my)
    den += ((xs[i] as number) - mx) ** 2
  }
  return den === 0 ? 0 : num / den
}

/** Reader processes: commands out, reports back. */
class Readers {
  private readonly procs: ChildProcess[] = []
  private readonly waiting = new Map<ChildProcess, ((r: ReaderReport) => void)[]>()

  constructor(n: number) {
    for (let i = 0; i < n; i++) {
      const child = fork('bench/load-readers.ts', [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
      child.on('message', (r: ReaderReport) => this.waiting.get(child)?.shift()?.(r))
      this.waiting.set(child, [])
      this.procs.push(child)
    }
  }

  get pids(): number[] {
    return this.procs.map((p) => p.pid as number)
  }

  private ask(child: ChildProcess, cmd: ReaderCommand): Promise<ReaderReport> {
    return new Promise((resolve) => {
      this.waiting.get(child)?.push(resolve)
      child.send(cmd)
    })
  }

  /** Open one reader per entry of `docIds`, spread over the processes. */
  async open(port: number, docIds: string[]): Promise<void> {
    const parts = this.procs.map(() => [] as string[])
    for (const [i, id] of docIds.entries()) parts[i % parts.length]?.push(id)
    await Promise.all(
      this.procs.map((p, i) =>
        (parts[i]?.length ?? 0) === 0
          ? undefined
          : this.ask(p, { type: 'open', port, docIds: parts[i] as string[] }),
      ),
    )
  }

  async stats(): Promise<{ held: number; frames: number; reconnects: number }> {
    const all = await Promise.all(this.procs.map((p) => this.ask(p, { type: 'stats' })))
    const sum = { held: 0, frames: 0, reconnects: 0 }
    for (const r of all) {
      if (r.type !== 'stats') continue
      sum.held += r.held
      sum.frames += r.frames
      sum.reconnects += r.reconnects
    }
    return sum
  }

  churn(perSecond: number): void {
    const each = Math.ceil(perSecond / this.procs.length)
    for (const p of this.procs) p.send({ type: 'churn', perSecond: each } satisfies ReaderCommand)
  }

  stop(): void {
    for (const p of this.procs) if (p.connected) p.send({ type: 'stop' } satisfies ReaderCommand)
  }
}

async function main(): Promise<void> {
  const relay = await startRelay()
  const url = `ws://127.0.0.1:${relay.port}`
  const pid = relay.child.pid as number
  const readers = new Readers(READERS > 0 ? PROCS : 0)
  const stop = () => {
    readers.stop()
    relay.child.kill('SIGINT')
    rmSync(dir, { recursive: true, force: true })
  }
  process.on('exit', stop)
  // Interrupted: still stop the relay and the reader processes (the exit handler does).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130))
  // Hard bound on the whole run, whatever happens.
  const budgetS = SOAK_MIN * 60 + LEVELS.length * (WINDOW_S + 180) + 600
  setTimeout(() => {
    console.error(`load: over the ${budgetS} s budget, stopping`)
    process.exit(1)
  }, budgetS * 1000).unref()
  const soaking = SOAK_MIN > 0
  const keystrokes = soaking ? RATE * 20 : Math.ceil((WINDOW_S + 2) * RATE * LEVELS.length)
  log(
    `setting up ${DOCS} documents (${keystrokes} keystrokes sealed ahead each), ` +
      `${READERS} readers in ${READERS > 0 ? PROCS : 0} processes…`,
  )
  const docs: Document[] = []
  for (let i = 0; i < DOCS; i++) {
    const d = await setUpDocument(url)
    await sealMore(d, keystrokes)
    docs.push(d)
  }
  const sockets: WebSocket[] = []
  for (const d of docs) {
    const w = await open(url, d.docId, (f) => {
      if (f.type === 'ack') stats.acked++
      if (f.type === 'error') stats.errors++
    })
    // The only writer from now on: its envelope `ref` is stored at `headSeq + ref`.
    d.writer = w.ws
    d.base = w.headSeq
    sockets.push(w.ws)
    const observer = await open(url, d.docId, (f) => {
      if (f.type === 'presence') stats.presence++
      if (f.type !== 'deliver') return
      const t0 = d.sentAt.get(f.seq)
      d.sentAt.delete(f.seq)
      if (t0 !== undefined) latencies.push(performance.now() - t0)
    })
    sockets.push(observer.ws)
  }
  let ticking = true
  // Keystrokes go out during measuring windows only, so each level has its share.
  let sending = false
  // Writers type independently: each document has its own phase within the keystroke gap,
  // so the relay sees a steady stream, not every writer's keystroke at the same instant.
  const tick = async () => {
    const gap = 1000 / RATE
    let was = false
    while (ticking) {
      const now = performance.now()
      if (sending && !was) {
        docs.forEach((d, i) => {
          d.due = now + (i / DOCS) * gap
          d.presenceDue = d.due + PRESENCE_S * 1000
        })
      }
      was = sending
      for (const d of docs) {
        if (!sending || d.writer === undefined || now < d.due) continue
        d.due += gap
        if (PRESENCE_S > 0 && now >= d.presenceDue) {
          d.presenceDue += PRESENCE_S * 1000
          d.writer.send(encodeFrame({ type: 'presence', docId: d.docId, payload: d.presence }))
        }
        const env = d.sealed.shift()
        if (env === undefined) continue
        const ref = ++d.ref
        d.writer.send(encodeFrame({ type: 'envelope', docId: d.docId, ref, envelope: env }))
        stats.sent++
        d.sentAt.set(d.base + ref, performance.now())
        // Soak: seal ahead of sending, a few seconds' worth.
        if (soaking && !d.sealing && d.sealed.length < RATE * 5) {
          d.sealing = true
          void sealMore(d, RATE * 10).finally(() => {
            d.sealing = false
          })
        }
      }
      await new Promise((r) => setTimeout(r, 5))
    }
  }
  const rows: Record<string, number | string>[] = []
  const run = tick()
  let opened = 0
  const genPids = [process.pid, ...readers.pids]
  const genCpu = () => genPids.reduce((n, p) => n + cpuSeconds(p), 0)
  const heldNow = async () =>
    sockets.filter((s) => s.readyState === WebSocket.OPEN).length + (await readers.stats()).held
  for (const level of LEVELS) {
    const want = Math.max(0, level - 2 * DOCS - opened)
    const ids = Array.from(
      { length: want },
      (_, i) => (docs[(opened + i) % DOCS] as Document).docId,
    )
    opened += want
    // The join storm: each new reader is sent the document's log so far.
    const r0 = cpuSeconds(pid)
    const t0 = performance.now()
    await readers.open(relay.port, ids)
    const ramp = { s: (performance.now() - t0) / 1000, cpu: cpuSeconds(pid) - r0, joins: want }
    const held = await heldNow()
    if (soaking) {
      rows.push(await soak(relay.port, pid, held))
      break
    }
    latencies.length = 0
    const m0 = await relayMetrics(relay.port)
    const s0 = stats.sent
    const c0 = cpuSeconds(pid)
    const g0 = genCpu()
    const w0 = performance.now()
    sending = true
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000))
    sending = false
    const secs = (performance.now() - w0) / 1000
    const m1 = await relayMetrics(relay.port)
    const row = {
      target: level,
      held,
      'msg/s': Math.round((m1.messages - m0.messages) / secs),
      'keystrokes/s': Math.round((stats.sent - s0) / secs),
      delivered: latencies.length,
      'p50 ms': +pct(latencies, 50).toFixed(1),
      'p99 ms': +pct(latencies, 99).toFixed(1),
      'relay CPU %': Math.round(((cpuSeconds(pid) - c0) / secs) * 100),
      // CPU per message, the figure least moved by other jobs on the machine.
      'relay µs/msg': +(((cpuSeconds(pid) - c0) / (m1.messages - m0.messages || 1)) * 1e6).toFixed(
        1,
      ),
      'relay RSS MiB': Math.round(m1.rss),
      'relay heap MiB': Math.round(m1.heap),
      'generator CPU %': Math.round(((genCpu() - g0) / secs) * 100),
      'load avg': +(loadavg()[0] ?? 0).toFixed(1),
      errors: stats.errors,
      joins: ramp.joins,
      'join s': +ramp.s.toFixed(1),
      'relay CPU ms/join': +((ramp.cpu * 1000) / (ramp.joins || 1)).toFixed(2),
    }
    rows.push(row)
    log(JSON.stringify(row))
    // Let in-flight deliveries land before the next level starts counting.
    await new Promise((r) => setTimeout(r, 1000))
  }

  async function soak(port: number, relayPid: number, held: number) {
    readers.churn(CHURN)
    sending = true
    const t0 = performance.now()
    const samples: { t: number; rss: number; heap: number }[] = []
    const c0 = cpuSeconds(relayPid)
    const s0 = stats.sent
    const end = t0 + SOAK_MIN * 60_000
    while (performance.now() < end) {
      await new Promise((r) => setTimeout(r, SAMPLE_S * 1000))
      const m = await relayMetrics(port)
      const t = (performance.now() - t0) / 1000
      samples.push({ t, rss: m.rss, heap: m.heap })
      log(
        JSON.stringify({
          t: Math.round(t),
          connections: m.connections,
          'rss MiB': +m.rss.toFixed(1),
          'heap MiB': +m.heap.toFixed(1),
          'p99 ms': +pct(latencies.slice(-2000), 99).toFixed(1),
          errors: stats.errors,
        }),
      )
    }
    sending = false
    readers.churn(0)
    const secs = (performance.now() - t0) / 1000
    const steady = samples.filter((s) => s.t >= WARMUP_S)
    const perMin = (k: 'rss' | 'heap') =>
      +(
        slope(
          steady.map((s) => s.t),
          steady.map((s) => s[k]),
        ) * 60
      ).toFixed(3)
    // The heap in use is a sawtooth between collections; a leak lifts its floor. So the
    // steady part is cut into six spans and the slope is fitted to each span's lowest sample.
    const floors: { t: number; heap: number }[] = []
    const span = (SOAK_MIN * 60 - WARMUP_S) / 6
    for (let i = 0; i < 6; i++) {
      const inSpan = steady.filter(
        (s) => s.t >= WARMUP_S + i * span && s.t < WARMUP_S + (i + 1) * span,
      )
      const low = inSpan.reduce<(typeof inSpan)[number] | undefined>(
        (m, s) => (m === undefined || s.heap < m.heap ? s : m),
        undefined,
      )
      if (low) floors.push(low)
    }
    const floorSlope =
      slope(
        floors.map((f) => f.t),
        floors.map((f) => f.heap),
      ) * 60
    const first = steady[0]
    const last = steady[steady.length - 1]
    return {
      minutes: SOAK_MIN,
      held,
      'keystrokes/s': Math.round((stats.sent - s0) / secs),
      delivered: latencies.length,
      reconnects: (await readers.stats()).reconnects,
      samples: steady.length,
      'warm-up s': WARMUP_S,
      'heap slope MiB/min': perMin('heap'),
      'heap floor slope MiB/min': +floorSlope.toFixed(3),
      'heap floor MiB first': +(floors[0]?.heap ?? 0).toFixed(1),
      'heap floor MiB last': +(floors[floors.length - 1]?.heap ?? 0).toFixed(1),
      'rss slope MiB/min': perMin('rss'),
      'heap MiB first': +(first?.heap ?? 0).toFixed(1),
      'heap MiB last': +(last?.heap ?? 0).toFixed(1),
      'rss MiB first': +(first?.rss ?? 0).toFixed(1),
      'rss MiB last': +(last?.rss ?? 0).toFixed(1),
      'p50 ms': +pct(latencies, 50).toFixed(1),
      'p99 ms': +pct(latencies, 99).toFixed(1),
      'relay CPU %': Math.round(((cpuSeconds(relayPid) - c0) / secs) * 100),
      'load avg': +(loadavg()[0] ?? 0).toFixed(1),
      errors: stats.errors,
    }
  }

  ticking = false
  await run
  if (!values.json) console.table(rows)
  else console.log(JSON.stringify(rows[rows.length - 1]))
  for (const s of sockets) s.terminate()
  readers.stop()
  relay.child.kill('SIGINT')
  await new Promise((r) => relay.child.once('exit', r))
  process.exit(0)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
