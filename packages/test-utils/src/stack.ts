/**
 * The real stack: the real `@valv/relay` (in process, or the `valv-relay` CLI as a child
 * process) with `defaultVerifier()`, real `DocumentSession`s and real `WebsocketProvider`s on
 * loopback. Attack, endurance, interop and provider tests import it from
 * `@valv/test-utils/stack`; nothing in here fakes cryptography.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { DocumentSession } from '@valv/crypto'
import { WebsocketProvider, type WebsocketProviderOptions } from '@valv/provider-websocket'
import { defaultVerifier, type LogRecord, Relay, type RelayOptions } from '@valv/relay'
import type { StorageAdapter } from '@valv/storage'
import { MemoryStorageAdapter } from '@valv/storage-memory'
import { decodeFrame, encodeFrame, type Frame, WIRE_VERSION } from '@valv/wire'
import { WebSocket } from 'ws'
import * as Y from 'yjs'

const cleanups: (() => Promise<unknown> | unknown)[] = []

/** Run every registered cleanup, newest first (call from `afterEach`). */
export async function cleanup(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c()
    } catch {
      // a cleanup failing must not hide the test's own result
    }
  }
}

/** Register a cleanup for the current test. */
export function onCleanup(fn: () => Promise<unknown> | unknown): void {
  cleanups.push(fn)
}

/** Wait until `cond()` holds. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  ms = 10_000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** Options for a provider made by {@link Stack.connect}. */
export type ConnectOptions = Partial<
  Omit<Extract<WebsocketProviderOptions, { document: unknown }>, 'document' | 'docId'>
>

/** A running relay plus a way to connect real sessions to it. */
export interface Stack {
  readonly relay: Relay
  readonly url: string
  readonly storage: StorageAdapter
  readonly logs: LogRecord[]
  /** A provider for `session`, attached and synced. */
  connect(session: DocumentSession, options?: ConnectOptions): Promise<WebsocketProvider>
  /** A raw frame-level client (an attacker who speaks the wire directly). */
  raw(): Promise<RawClient>
}

/** The real relay in process with `defaultVerifier()`, on an ephemeral loopback port. */
export async function startStack(
  options: Partial<Omit<RelayOptions, 'verifier' | 'logger'>> = {},
): Promise<Stack> {
  const storage = options.storage ?? new MemoryStorageAdapter()
  const logs: LogRecord[] = []
  const relay = new Relay({
    ...options,
    storage,
    verifier: defaultVerifier(),
    logger: (r) => logs.push(r),
  })
  const { port } = await relay.listen(0, '127.0.0.1')
  cleanups.push(() => relay.close())
  const url = `ws://127.0.0.1:${port}`
  return {
    relay,
    url,
    storage,
    logs,
    connect: (session, opts) => connect(url, session, opts),
    raw: () => RawClient.open(url),
  }
}

/**
 * A provider for `session` against `url` on a fresh `Y.Doc`, not attached, with the library's
 * defaults unless `options` says otherwise (benchmarks measure those); the caller destroys it.
 */
export function newProvider(
  url: string,
  session: DocumentSession,
  options: ConnectOptions = {},
): WebsocketProvider {
  return new WebsocketProvider({
    url,
    doc: new Y.Doc(),
    docId: session.docId,
    document: session,
    WebSocketPolyfill: WebSocket as never,
    ...options,
  } as WebsocketProviderOptions)
}

/** A provider for `session` against `url`, attached and synced (short test timers). */
export async function connect(
  url: string,
  session: DocumentSession,
  options: ConnectOptions = {},
): Promise<WebsocketProvider> {
  const p = newProvider(url, session, {
    batch: { windowMs: 5 },
    backoff: { minMs: 20, maxMs: 200 },
    ...options,
  })
  cleanups.push(() => p.destroy())
  await session.attach(p)
  await p.whenSynced()
  return p
}

/**
 * Put a document made elsewhere (e.g. by `sharedDocument`) on the relay at `url`: its chain,
 * appended entry by entry through a raw socket (the relay verifies each one again).
 */
export async function publishChain(
  url: string,
  docId: string,
  chain: readonly Uint8Array[],
): Promise<void> {
  const raw = await (await RawClient.open(url)).auth()
  await raw.subscribe(docId)
  for (const [index, entry] of chain.entries()) {
    raw.send({ type: 'membership-append', docId, ref: index + 1, index, entry })
    const answer = await raw.next(
      (f) => (f.type === 'ack' || f.type === 'error') && f.ref === index + 1,
    )
    if (answer.type !== 'ack') throw new Error(`entry ${index} refused: ${JSON.stringify(answer)}`)
  }
  raw.ws.close()
}

/** The `valv-relay` CLI as a child process. */
export interface RelayProcess {
  readonly child: ChildProcess
  readonly port: number
  readonly url: string
  readonly http: string
  /** Every JSON log line the process printed so far. */
  readonly lines: Record<string, unknown>[]
  /** `GET /healthz` status, or 0 when the process does not answer. */
  health(): Promise<number>
  /** `GET /metrics` text. */
  metrics(): Promise<string>
  /** Whether the process is still running. */
  alive(): boolean
}

const EXIT_WITH_PARENT = fileURLToPath(new URL('./exit-with-parent.mjs', import.meta.url))

/** Start `valv-relay` (from source, through tsx) on an ephemeral port with `args`. */
export async function startRelayProcess(args: string[] = []): Promise<RelayProcess> {
  // Node itself with tsx's loader, not the `tsx` wrapper: the wrapper runs the relay in a child
  // process that a SIGKILL of the wrapper leaves running (still holding its storage).
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      EXIT_WITH_PARENT,
      'packages/relay/src/cli.ts',
      '--port',
      '0',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let exited = false
  child.once('exit', () => {
    exited = true
  })
  cleanups.push(() => child.kill('SIGKILL'))
  const lines: Record<string, unknown>[] = []
  const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`relay exited with ${code} before listening`)))
    rl.on('line', (line) => {
      try {
        const rec = JSON.parse(line) as Record<string, unknown>
        lines.push(rec)
        if (rec.event === 'listening') resolve(rec.port as number)
      } catch {
        // not a log line
      }
    })
  })
  const http = `http://127.0.0.1:${port}`
  return {
    child,
    port,
    url: `ws://127.0.0.1:${port}`,
    http,
    lines,
    async health() {
      try {
        return (await fetch(`${http}/healthz`)).status
      } catch {
        return 0
      }
    },
    async metrics() {
      return (await fetch(`${http}/metrics`)).text()
    },
    alive: () => !exited,
  }
}

/** An attacker's socket: sends any bytes, records every decoded frame and the close code. */
export class RawClient {
  readonly frames: Frame[] = []
  /** Raw messages that did not decode as frames. */
  readonly garbage: Uint8Array[] = []
  closeCode: number | undefined

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (b: Buffer) => {
      try {
        this.frames.push(decodeFrame(new Uint8Array(b)))
      } catch {
        this.garbage.push(new Uint8Array(b))
      }
    })
    ws.on('close', (code) => {
      this.closeCode = code
    })
  }

  /** Open a socket to `url` (no frames sent yet). */
  static async open(url: string): Promise<RawClient> {
    const ws = new WebSocket(url)
    ws.binaryType = 'nodebuffer'
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    const c = new RawClient(ws)
    cleanups.push(() => ws.terminate())
    return c
  }

  /** Send a frame. */
  send(frame: Frame): void {
    this.ws.send(encodeFrame(frame))
  }

  /**
   * Authenticate with `token` at the current wire version and wait for `auth-ok` (throws if the
   * relay closes instead). `wait: false` only sends, so a test can pipeline frames behind it.
   */
  async auth(token = '', options: { wait?: boolean } = {}): Promise<this> {
    this.send({ type: 'auth', version: WIRE_VERSION, token })
    if (options.wait !== false) await this.next((f) => f.type === 'auth-ok')
    return this
  }

  /** Subscribe to `docId` from the beginning and wait for its `synced`. */
  async subscribe(docId: string): Promise<this> {
    this.send({ type: 'subscribe', docId, sinceSeq: 0, snapshotSeq: 0, membershipFrom: 0 })
    await this.next((f) => f.type === 'synced' && f.docId === docId)
    return this
  }

  /** Send raw bytes (possibly not a frame at all). */
  sendBytes(bytes: Uint8Array): void {
    this.ws.send(bytes)
  }

  /** Wait for the first frame (from now on, or already received) matching `pred`. */
  async next<F extends Frame>(pred: (f: Frame) => f is F, ms?: number): Promise<F>
  async next(pred: (f: Frame) => boolean, ms?: number): Promise<Frame>
  async next(pred: (f: Frame) => boolean, ms = 5000): Promise<Frame> {
    let found: Frame | undefined
    await until(
      () => {
        found = this.frames.find(pred)
        return found !== undefined || this.closeCode !== undefined
      },
      ms,
      'frame',
    )
    if (found === undefined) throw new Error(`closed with ${this.closeCode} before the frame came`)
    return found
  }

  /** Resolves with the close code. */
  async closed(ms = 5000): Promise<number> {
    await until(() => this.closeCode !== undefined, ms, 'close')
    return this.closeCode as number
  }
}
