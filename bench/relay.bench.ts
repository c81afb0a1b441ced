/**
 * The Valv relay against plain Yjs over y-websocket (`@y/websocket-server` 0.1.1 +
 * `y-websocket` 3.1.0), in one process on loopback:
 *
 * - trace replay: the automerge-paper trace typed on one client, one Yjs update per edit,
 *   until a second client has applied every edit. Valv: each update sealed by a real
 *   `DocumentSession` (padded, XChaCha20-Poly1305, ed25519), verified by the relay's
 *   `defaultVerifier()` (signature, role, epoch, counter), stored durably in memory and acked;
 *   the reader opens it with a real session (verifies and decrypts) and applies it.
 * - one-keystroke latency p50/p99: writer → observer, one edit at a time.
 * - process heap per open document (server + one subscribed client each).
 * - fan-out: one writer → N observers, time until the last observer has the update (p50).
 *
 * The wire client is a raw one (no provider, no batching): this measures the relay and the
 * envelope format, not `WebsocketProvider`.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { type DocumentSession, Role } from '@valv/crypto'
import { type SharedDocument, sharedDocument } from '@valv/test-utils'
import { TestClient, TestMemoryStorage } from '@valv/test-utils/relay'
import { setupWSConnection } from '@y/websocket-server/utils'
import { WebSocket, WebSocketServer } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { defaultVerifier } from '../packages/relay/src/protocol-verifier.js'
import { Relay } from '../packages/relay/src/relay.js'
import { type Benchmark, type BenchRow, loadTrace, percentile } from './harness.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// A real GC before each heap reading; without it the per-document figure is noise.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
async function settledHeap(): Promise<number> {
  await sleep(20)
  gc()
  return process.memoryUsage().heapUsed
}

async function until(cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('bench timeout')
    await new Promise((r) => setImmediate(r))
  }
}

// ---- Valv side -------------------------------------------------------------------------------

interface ValvPeer {
  readonly client: TestClient
  readonly doc: Y.Doc
}

class ValvWorld {
  /** Per document: its members (an editor writes, the admin's session reads). */
  private readonly docs = new Map<string, { shared: SharedDocument; counter: number }>()
  relay!: Relay
  url = ''

  async start(): Promise<void> {
    this.relay = new Relay({
      storage: new TestMemoryStorage(),
      verifier: defaultVerifier(),
      logger: () => {},
      limits: { messagesPerSecond: 1e9, messageBurst: 1e9, maxSubscribersPerDoc: 10_000 },
    })
    this.url = `ws://127.0.0.1:${(await this.relay.listen(0)).port}`
  }

  /** A new document with an admin and an editor (real sessions); returns its id. */
  async document(): Promise<string> {
    const shared = await sharedDocument([Role.Editor])
    this.docs.set(shared.docId, { shared, counter: 1 })
    return shared.docId
  }

  /** Append the document's membership chain through `c` (subscribed to it). */
  async setupDoc(c: TestClient, docId: string): Promise<void> {
    const chain = this.of(docId).shared.chain()
    for (const [index, entry] of chain.entries()) {
      c.send({ type: 'membership-append', docId, ref: index + 1, index, entry })
      await c.next((f) => f.type === 'ack' && f.ref === index + 1)
    }
  }

  /** A reader: opens every delivered envelope (in order) and applies it to its Y.Doc. */
  async peer(docId: string): Promise<ValvPeer> {
    const reader: DocumentSession = this.of(docId).shared.admin
    const client = await TestClient.ready(this.url, [docId])
    const doc = new Y.Doc()
    let applied = Promise.resolve()
    client.ws.on('message', () => {
      for (const f of client.frames.splice(0)) {
        if (f.type !== 'deliver') continue
        applied = applied.then(async () => {
          Y.applyUpdate(doc, (await reader.open('update', f.envelope)).plaintext)
        })
      }
    })
    return { client, doc }
  }

  seal(docId: string, update: Uint8Array): Promise<Uint8Array> {
    const d = this.of(docId)
    return (d.shared.members[0] as DocumentSession).seal('update', update, d.counter++)
  }

  private of(docId: string) {
    const d = this.docs.get(docId)
    if (d === undefined) throw new Error(`no document ${docId}`)
    return d
  }

  async close(): Promise<void> {
    await this.relay.close()
  }
}

// ---- plain y-websocket side ------------------------------------------------------------------

async function plainServer(): Promise<{ url: string; close(): Promise<void> }> {
  const http = createServer()
  const wss = new WebSocketServer({ server: http })
  wss.on('connection', (ws, req) => setupWSConnection(ws, req))
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
  return {
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}`,
    close: async () => {
      for (const c of wss.clients) c.terminate()
      await new Promise((r) => http.close(r))
    },
  }
}

async function plainPeer(url: string, room: string): Promise<{ p: WebsocketProvider; doc: Y.Doc }> {
  const doc = new Y.Doc()
  const p = new WebsocketProvider(url, room, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  })
  await until(() => p.synced)
  return { p, doc }
}

// ---- workloads -------------------------------------------------------------------------------

function updatesOf(edits: readonly { pos: number; del: number; text: string }[]): Uint8Array[] {
  const doc = new Y.Doc()
  const text = doc.getText('t')
  const out: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => out.push(u))
  for (const e of edits) {
    if (e.del > 0) text.delete(e.pos, e.del)
    if (e.text) text.insert(e.pos, e.text)
  }
  return out
}

const bench: Benchmark = async ({ quick }) => {
  // y-websocket adds a process 'exit' listener per provider.
  process.setMaxListeners(0)
  const trace = loadTrace('automerge-paper', quick ? 2000 : 20_000)
  const updates = updatesOf(trace.edits)
  const finalLength = updatesLength(updates)
  const rows: BenchRow[] = []
  const valv = new ValvWorld()
  await valv.start()
  const plain = await plainServer()
  try {
    // Trace replay, pipelined: the writer does not wait for acks.
    const traceId = await valv.document()
    const vr = await valv.peer(traceId)
    const vw = await TestClient.ready(valv.url, [traceId])
    await valv.setupDoc(vw, traceId)
    const envs: Uint8Array[] = []
    for (const u of updates) envs.push(await valv.seal(traceId, u))
    const bytesIn0 = valv.relay.metrics.bytesIn
    let t = performance.now()
    for (const [i, e] of envs.entries())
      vw.send({ type: 'envelope', docId: traceId, ref: i + 10, envelope: e })
    await until(() => vr.doc.getText('t').length === finalLength)
    const valvReplay = performance.now() - t
    const valvWire = valv.relay.metrics.bytesIn - bytesIn0
    const valvStored = valv.relay.metrics.bytesStored

    const pr = await plainPeer(plain.url, 'trace')
    const pw = await plainPeer(plain.url, 'trace')
    let plainWire = 0
    pw.doc.on('update', (u: Uint8Array) => {
      plainWire += u.length + 3
    })
    t = performance.now()
    pw.doc.transact(() => {}) // warm
    for (const u of updates) Y.applyUpdate(pw.doc, u)
    await until(() => pr.doc.getText('t').length === finalLength)
    const plainReplay = performance.now() - t
    rows.push(
      {
        name: `trace replay ${updates.length} updates, writer → reader`,
        value: valvReplay,
        unit: 'ms',
        baseline: plainReplay,
      },
      {
        name: 'trace replay bytes on the wire (writer → relay)',
        value: valvWire,
        unit: 'B',
        baseline: plainWire,
      },
      {
        name: 'relay log bytes, uncompacted (baseline: Yjs state size)',
        value: valvStored,
        unit: 'B',
        baseline: Y.encodeStateAsUpdate(pr.doc).length,
      },
    )

    // One-keystroke latency, one at a time.
    const n = quick ? 100 : 500
    const vLat: number[] = []
    const pLat: number[] = []
    const ktext = Y.encodeStateAsUpdate(vr.doc)
    const kdoc = new Y.Doc()
    Y.applyUpdate(kdoc, ktext)
    for (let i = 0; i < n; i++) {
      const before = vr.doc.getText('t').length
      let u: Uint8Array = new Uint8Array()
      kdoc.once('update', (x: Uint8Array) => {
        u = x
      })
      kdoc.getText('t').insert(0, 'x')
      const s = performance.now()
      const envelope = await valv.seal(traceId, u)
      vw.send({ type: 'envelope', docId: traceId, ref: 1e6 + i, envelope })
      await until(() => vr.doc.getText('t').length > before)
      vLat.push(performance.now() - s)
    }
    for (let i = 0; i < n; i++) {
      const before = pr.doc.getText('t').length
      const s = performance.now()
      pw.doc.getText('t').insert(0, 'x')
      await until(() => pr.doc.getText('t').length > before)
      pLat.push(performance.now() - s)
    }
    rows.push(
      {
        name: 'keystroke latency p50',
        value: percentile(vLat, 50),
        unit: 'ms',
        baseline: percentile(pLat, 50),
      },
      {
        name: 'keystroke latency p99',
        value: percentile(vLat, 99),
        unit: 'ms',
        baseline: percentile(pLat, 99),
      },
    )
    vr.client.close()
    vw.close()
    pr.p.destroy()
    pw.p.destroy()

    // Memory per open document (server + one subscribed client each).
    const docs = quick ? 50 : 300
    let heap0 = await settledHeap()
    const vClients: TestClient[] = []
    for (let i = 0; i < docs; i++) vClients.push(await TestClient.ready(valv.url, [`m${i}`]))
    const valvPerDoc = ((await settledHeap()) - heap0) / docs
    heap0 = await settledHeap()
    const pPeers: WebsocketProvider[] = []
    for (let i = 0; i < docs; i++) pPeers.push((await plainPeer(plain.url, `m${i}`)).p)
    const plainPerDoc = ((await settledHeap()) - heap0) / docs
    rows.push({
      name: 'process heap per open document (+1 client)',
      value: valvPerDoc / 1024,
      unit: 'KiB',
      baseline: plainPerDoc / 1024,
    })
    for (const c of vClients) c.close()
    for (const p of pPeers) p.destroy()

    // Fan-out 1 writer → N observers.
    const observers = quick ? 20 : 500
    const vObs: ValvPeer[] = []
    const fanId = await valv.document()
    for (let i = 0; i < observers; i++) vObs.push(await valv.peer(fanId))
    const fw = await TestClient.ready(valv.url, [fanId])
    await valv.setupDoc(fw, fanId)
    const pObs: { p: WebsocketProvider; doc: Y.Doc }[] = []
    for (let i = 0; i < observers; i++) pObs.push(await plainPeer(plain.url, 'fan'))
    const pfw = await plainPeer(plain.url, 'fan')
    const rounds = quick ? 5 : 20
    const vFan: number[] = []
    const pFan: number[] = []
    const src = new Y.Doc()
    for (let r = 0; r < rounds; r++) {
      let u: Uint8Array = new Uint8Array()
      src.once('update', (x: Uint8Array) => {
        u = x
      })
      src.getText('t').insert(0, 'y')
      let s = performance.now()
      const envelope = await valv.seal(fanId, u)
      fw.send({ type: 'envelope', docId: fanId, ref: r + 1, envelope })
      await until(() => vObs.every((o) => o.doc.getText('t').length === r + 1))
      vFan.push(performance.now() - s)
      s = performance.now()
      pfw.doc.getText('t').insert(0, 'y')
      await until(() => pObs.every((o) => o.doc.getText('t').length === r + 1))
      pFan.push(performance.now() - s)
    }
    rows.push({
      name: `fan-out 1 → ${observers} observers, last one applied (p50)`,
      value: percentile(vFan, 50),
      unit: 'ms',
      baseline: percentile(pFan, 50),
    })
    for (const o of vObs) o.client.close()
    fw.close()
    for (const o of pObs) o.p.destroy()
    pfw.p.destroy()
  } finally {
    await valv.close()
    await plain.close()
  }
  return rows
}

function updatesLength(updates: readonly Uint8Array[]): number {
  const d = new Y.Doc()
  for (const u of updates) Y.applyUpdate(d, u)
  return d.getText('t').length
}

export default bench
