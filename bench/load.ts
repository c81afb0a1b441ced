/**
 * Load generator, in its own process: `npm run load -- --connections 5000`.
 *
 * Starts the relay CLI as a child process (SQLite store in a temporary directory, loopback only),
 * creates `--docs` documents (real `DocumentSession`s; the admin's provider writes each
 * membership chain), pre-seals each writer's keystrokes in bulk (real seal: encrypted and
 * Ed25519-signed, which the relay verifies), then holds `writers + observers + readers`
 * lightweight raw WebSocket clients. Each document has one writer typing `--rate` keystrokes/s
 * and one observer that decodes deliveries to time them; the rest are readers subscribed to a
 * document (counted, not decoded). At each level of connections (100, 1,000, 5,000, 10,000 up to
 * `--connections`) it measures for `--window` seconds: connections held, messages/s through the
 * relay, keystroke latency (writer send → observer delivery) p50/p99, and relay RSS and CPU.
 * `--cpu-prof` writes a V8 CPU profile of the relay to `bench/results/`. Bounded in count and
 * time; stops by itself.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
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

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000' },
    docs: { type: 'string', default: '50' },
    rate: { type: 'string', default: '4' },
    window: { type: 'string', default: '10' },
    'cpu-prof': { type: 'boolean', default: false },
    storage: { type: 'string', default: 'sqlite' },
  },
})
const MAX = Math.min(Number(values.connections), 20_000)
const DOCS = Number(values.docs)
const RATE = Number(values.rate)
const WINDOW_S = Number(values.window)
const LEVELS = [...new Set([100, 1000, 5000, 10_000].filter((n) => n < MAX).concat(MAX))]
  .filter((n) => n >= 2 * DOCS)
  .sort((a, b) => a - b)

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
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(f[11]) + Number(f[12])) / 100
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)
  return Math.round(Number(line?.[1] ?? 0) / 1024)
}

/** A raw client: authenticated and subscribed to `docId`. */
async function open(url: string, docId: string, onFrame?: (f: Frame) => void) {
  const ws = new WebSocket(url)
  ws.binaryType = 'nodebuffer'
  let synced: (head: number) => void = () => undefined
  let failed: (e: Error) => void = () => undefined
  const done = new Promise<number>((resolve, reject) => {
    synced = resolve
    failed = reject
  })
  let caughtUp = false
  ws.on('message', (b: Buffer) => {
    stats.received++
    // Readers only count frames once caught up; until then they look for `synced`.
    if (onFrame === undefined && caughtUp) return
    const f = decodeFrame(new Uint8Array(b))
    if (f.type === 'synced') {
      caughtUp = true
      synced(f.headSeq)
    }
    onFrame?.(f)
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

const stats = { received: 0, sent: 0, acked: 0, errors: 0 }
const latencies: number[] = []

interface Document {
  readonly docId: string
  readonly sealed: Uint8Array[]
  next: number
  base: number
  readonly sentAt: Map<number, number>
  writer?: WebSocket
}

async function setUpDocument(url: string, keystrokes: number): Promise<Document> {
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
  const sealed: Uint8Array[] = []
  // One keystroke: a real Yjs update of one character, sealed (encrypted and signed).
  const y = new Y.Doc()
  y.on('update', (u: Uint8Array) => sealed.push(u))
  for (let i = 0; i < keystrokes; i++) y.getText('t').insert(i, 'x')
  const out: Uint8Array[] = []
  for (let i = 0; i < sealed.length; i++) {
    out.push(await admin.seal('update', sealed[i] as Uint8Array, 1000 + i))
  }
  return { docId: admin.docId, sealed: out, next: 0, base: 0, sentAt: new Map() }
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0
    ? Number.NaN
    : (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0)
}

async function main(): Promise<void> {
  const relay = await startRelay()
  const url = `ws://127.0.0.1:${relay.port}`
  const pid = relay.child.pid as number
  const stop = () => {
    relay.child.kill('SIGINT')
    rmSync(dir, { recursive: true, force: true })
  }
  process.on('exit', stop)
  const total = Math.ceil((WINDOW_S + 2) * RATE * LEVELS.length)
  console.log(`setting up ${DOCS} documents, ${total} pre-sealed keystrokes each…`)
  const docs: Document[] = []
  for (let i = 0; i < DOCS; i++) docs.push(await setUpDocument(url, total))
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
  const tick = async () => {
    const gap = 1000 / RATE
    while (ticking) {
      const started = performance.now()
      for (const d of docs) {
        if (!sending) break
        const env = d.sealed[d.next]
        if (env === undefined || d.writer === undefined) continue
        const ref = ++d.next
        d.writer.send(encodeFrame({ type: 'envelope', docId: d.docId, ref, envelope: env }))
        stats.sent++
        d.sentAt.set(d.base + ref, performance.now())
      }
      await new Promise((r) => setTimeout(r, Math.max(0, gap - (performance.now() - started))))
    }
  }
  const rows: Record<string, number | string>[] = []
  const run = tick()
  let readers = 0
  for (const level of LEVELS) {
    const t0 = Date.now()
    while (sockets.length < level && Date.now() - t0 < 120_000) {
      const batch: Promise<{ ws: WebSocket }>[] = []
      for (let i = 0; i < 100 && sockets.length + batch.length < level; i++) {
        const d = docs[(readers + i) % docs.length] as Document
        batch.push(open(url, d.docId))
      }
      readers += batch.length
      const opened = await Promise.allSettled(batch)
      for (const o of opened) if (o.status === 'fulfilled') sockets.push(o.value.ws)
    }
    const held = sockets.filter((s) => s.readyState === WebSocket.OPEN).length
    latencies.length = 0
    const r0 = stats.received
    const s0 = stats.sent
    const c0 = cpuSeconds(pid)
    const w0 = performance.now()
    sending = true
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000))
    sending = false
    const secs = (performance.now() - w0) / 1000
    const row = {
      target: level,
      held,
      'msg/s': Math.round((stats.received - r0 + stats.sent - s0) / secs),
      'keystrokes/s': Math.round((stats.sent - s0) / secs),
      delivered: latencies.length,
      'p50 ms': +pct(latencies, 50).toFixed(1),
      'p99 ms': +pct(latencies, 99).toFixed(1),
      'relay CPU %': Math.round(((cpuSeconds(pid) - c0) / secs) * 100),
      'relay RSS MiB': rssMiB(pid),
      errors: stats.errors,
    }
    rows.push(row)
    console.log(JSON.stringify(row))
  }
  ticking = false
  await run
  console.table(rows)
  for (const s of sockets) s.terminate()
  relay.child.kill('SIGINT')
  await new Promise((r) => relay.child.once('exit', r))
  process.exit(0)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
