/**
 * One collaboration server in a child process, for `relay-memory.bench.ts`: `valv` (the Valv
 * relay, `defaultVerifier()`, fs storage in a temporary directory, so stored bytes are on disk,
 * not in the heap), `y-websocket` (`@y/websocket-server`) or `hocuspocus` (`@hocuspocus/server`).
 * Prints `{"port":…}` when listening; on each stdin line answers with its memory after a GC:
 * `mem` → `{"rss":…,"heap":…}`; `hp <name> <edits>` (Hocuspocus only) opens document `name`
 * through a direct connection, types `edits` edits of 100 characters (as the bench's clients
 * do) and keeps it open.
 */
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const mode = process.argv[2]
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`)
let hocuspocus: { openDirectConnection(name: string): Promise<unknown> } | undefined
const held: unknown[] = []
interface Text {
  readonly length: number
  insert(index: number, s: string): void
}

async function start(): Promise<number> {
  if (mode === 'valv') {
    const { Relay, defaultVerifier } = await import('../packages/relay/src/index.js')
    const { FsStorageAdapter } = await import('../packages/storage-fs/src/index.js')
    const dir = mkdtempSync(join(tmpdir(), 'valv-memory-bench-'))
    const relay = new Relay({
      storage: new FsStorageAdapter({ directory: dir, fsync: false }),
      verifier: defaultVerifier(),
      logger: () => {},
      limits: { messagesPerSecond: 1e9, messageBurst: 1e9, maxDocsPerConnection: 100_000 },
    })
    return (await relay.listen(0, '127.0.0.1')).port
  }
  if (mode === 'y-websocket') {
    const { WebSocketServer } = await import('ws')
    const { setupWSConnection } = await import('@y/websocket-server/utils')
    const wss = new WebSocketServer({ noServer: true })
    wss.on('connection', (ws, req) => setupWSConnection(ws, req))
    const http = createServer()
    http.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)),
    )
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
    return (http.address() as AddressInfo).port
  }
  if (mode === 'hocuspocus') {
    const { Server } = await import('@hocuspocus/server')
    const server = new Server({ port: 0, address: '127.0.0.1', quiet: true, stopOnSignals: false })
    hocuspocus = await server.listen()
    return server.address.port
  }
  throw new Error(`unknown mode ${mode}`)
}

const port = await start()
out({ port })
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, name, edits] = line.split(' ')
  if (cmd === 'hp' && hocuspocus && name) {
    const conn = (await hocuspocus.openDirectConnection(name)) as {
      transact(fn: (doc: { getText(n: string): Text }) => void): Promise<void>
    }
    for (let i = 0; i < Number(edits); i++) {
      await conn.transact((doc) => {
        const t = doc.getText('t')
        t.insert((i * 7919) % (t.length + 1), 'x'.repeat(100))
      })
    }
    held.push(conn)
    out({ ok: true })
  } else if (cmd === 'mem') {
    for (let i = 0; i < 3; i++) {
      gc()
      await new Promise((r) => setTimeout(r, 20))
    }
    const m = process.memoryUsage()
    out({ rss: m.rss, heap: m.heapUsed })
  }
}
