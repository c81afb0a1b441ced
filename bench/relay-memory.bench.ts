/**
 * Server memory per open document (issue 14): the Valv relay against y-websocket
 * (`@y/websocket-server`) and Hocuspocus (`@hocuspocus/server`), each server alone in a child
 * process (`bench/memory-server.ts`), in the same run. Every document holds the same 20 KB of
 * text (200 edits of 100 characters) and one subscriber:
 *
 * - Valv: a real `DocumentSession` writes the text through a `WebsocketProvider`; then one raw
 *   subscriber per document stays connected. The relay's storage is fs (on disk), so the
 *   figure is what a room costs in memory: subscribers, sequence head, membership chain,
 *   counters, a small retry window.
 * - y-websocket: one `y-websocket` client per document writes the text and stays connected;
 *   the server keeps a whole `Y.Doc` per document.
 * - Hocuspocus: documents opened inside the server by a direct connection (no socket; the
 *   provider package is not a dependency), which loads a `Y.Doc` as a client would.
 *
 * Heap after three GCs, and RSS, both per document: (after N documents − after warm-up) / N.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { TestClient } from '@valv/test-utils/relay'
import { newProvider } from '@valv/test-utils/stack'
import { WebSocket } from 'ws'
import { WebsocketProvider as YProvider } from 'y-websocket'
import * as Y from 'yjs'
import { DocumentSession, Identity } from '../packages/crypto/src/index.js'
import type { Benchmark, BenchRow } from './harness.js'

// A 20 KB document typed as 200 edits of 100 characters at scattered positions (a Y.Doc
// keeps one item per edit, as after real typing, not one string).
const EDITS = 200
const CHUNK = 'x'.repeat(100)

/** Type the document into `text` (the same edits for every server). */
function type(text: Y.Text): void {
  for (let i = 0; i < EDITS; i++) text.insert((i * 7919) % (text.length + 1), CHUNK)
}

interface Child {
  readonly port: number
  ask(line: string): Promise<Record<string, number>>
  stop(): void
}

async function server(mode: string): Promise<Child> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/memory-server.ts', mode],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  const waiting: ((o: Record<string, number>) => void)[] = []
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  lines.on('line', (line) => {
    try {
      waiting.shift()?.(JSON.parse(line) as Record<string, number>)
    } catch {
      // not ours
    }
  })
  const next = () => new Promise<Record<string, number>>((r) => waiting.push(r))
  const { port } = await next()
  return {
    port: port as number,
    ask(line) {
      const answer = next()
      child.stdin?.write(`${line}\n`)
      return answer
    },
    stop: () => child.kill('SIGKILL'),
  }
}

async function until(cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('bench timeout')
    await new Promise((r) => setTimeout(r, 2))
  }
}

/** Memory per document after `open(i)` for documents 1..n (document 0 warms up). */
async function perDoc(s: Child, n: number, open: (i: number) => Promise<void>) {
  await open(0)
  const before = await s.ask('mem')
  for (let i = 1; i <= n; i++) await open(i)
  // Writes still on the wire land first.
  await new Promise((r) => setTimeout(r, 300))
  const after = await s.ask('mem')
  return {
    heap: ((after.heap as number) - (before.heap as number)) / n / 1024,
    rss: ((after.rss as number) - (before.rss as number)) / n / 1024,
  }
}

const bench: Benchmark = async ({ quick }) => {
  const n = quick ? 20 : 200
  const cleanup: (() => void)[] = []
  try {
    // Valv
    const valv = await server('valv')
    cleanup.push(() => valv.stop())
    const url = `ws://127.0.0.1:${valv.port}`
    const identity = await Identity.create({ displayName: 'Anna' })
    const valvMem = await perDoc(valv, n, async () => {
      const session = await DocumentSession.create(identity)
      const p = newProvider(url, session)
      await session.attach(p)
      await p.whenSynced()
      type(p.doc.getText('t'))
      await until(() => p.unsyncedChanges === 0)
      const sub = await TestClient.ready(url, [session.docId])
      cleanup.push(() => sub.close())
      p.destroy()
    })
    valv.stop()

    // y-websocket
    const yws = await server('y-websocket')
    cleanup.push(() => yws.stop())
    const ywsMem = await perDoc(yws, n, async (i) => {
      const doc = new Y.Doc()
      const p = new YProvider(`ws://127.0.0.1:${yws.port}`, `m${i}`, doc, {
        WebSocketPolyfill: WebSocket as never,
      })
      cleanup.push(() => p.destroy())
      await until(() => p.synced)
      type(doc.getText('t'))
      // The server applied it once an echo-free round trip completes: ask for its state.
      await new Promise((r) => setTimeout(r, 5))
    })
    yws.stop()

    // Hocuspocus
    const hp = await server('hocuspocus')
    cleanup.push(() => hp.stop())
    const hpMem = await perDoc(hp, n, async (i) => {
      await hp.ask(`hp m${i} ${EDITS}`)
    })
    hp.stop()

    const row = (name: string, value: number, baseline: number): BenchRow => ({
      name,
      value,
      unit: 'KiB',
      baseline,
    })
    return [
      row(
        'server heap per open document (20 KB text, 1 subscriber), vs y-websocket',
        valvMem.heap,
        ywsMem.heap,
      ),
      row(
        'server heap per open document, vs Hocuspocus (direct connection)',
        valvMem.heap,
        hpMem.heap,
      ),
      row('server RSS per open document, vs y-websocket', valvMem.rss, ywsMem.rss),
      row(
        'server RSS per open document, vs Hocuspocus (direct connection)',
        valvMem.rss,
        hpMem.rss,
      ),
    ]
  } finally {
    for (const c of cleanup.reverse()) {
      try {
        c()
      } catch {
        // already gone
      }
    }
  }
}

export default bench
