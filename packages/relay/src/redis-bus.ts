import { randomUUID } from 'node:crypto'
import { decodeFrame, encodeFrame, type Frame } from '@valv/wire'
import { createClient } from 'redis'
import type { ClusterBus } from './cluster.js'

/** Options of {@link RedisBus}. */
export interface RedisBusOptions {
  /** `redis://[user:pass@]host:port[/db]` (or `rediss://` for TLS). */
  readonly url: string
  /** Channel prefix, so clusters (or tests) can share one Redis. Default `valv:`. */
  readonly prefix?: string
  /** This node's id; a random UUID by default. */
  readonly nodeId?: string
  /** Called when publishing fails (Redis down); the store already holds the write. */
  readonly onError?: (err: unknown) => void
}

// The part of node-redis this bus uses (its generic client types do not survive
// `exactOptionalPropertyTypes`).
interface Client {
  on(event: 'error' | 'ready', listener: (err?: unknown) => void): unknown
  connect(): Promise<unknown>
  subscribe(channel: string, listener: (message: Buffer) => void, buffers: true): Promise<void>
  unsubscribe(channel: string): Promise<void>
  publish(channel: string, message: Buffer): Promise<number>
  close(): Promise<void>
  destroy(): void
}

// A graceful close waits for Redis to answer; with Redis down it would wait for the reconnect.
const CLOSE_WAIT_MS = 2000

/**
 * {@link ClusterBus} on Redis pub/sub: one channel per document (`<prefix>doc:<docId>`), each
 * message this node's id then a `@valv/wire` frame. Nodes subscribe only to documents they hold
 * open, so fan-out costs follow open documents, as in `@y/hub`. Pub/sub (not streams) is
 * enough because the log is in the store: a message lost while Redis restarts is found again
 * through {@link ClusterBus.onResync}, which fires on every reconnect.
 *
 * @example
 * ```ts
 * const cluster = await RedisBus.connect({ url: 'redis://127.0.0.1:6379' })
 * const relay = new Relay({ storage, verifier: defaultVerifier(), cluster })
 * ```
 */
export class RedisBus implements ClusterBus {
  readonly nodeId: string
  private readonly prefix: string
  private readonly id: Buffer
  private readonly handlers = new Map<string, (frame: Frame) => void>()
  private readonly resync: (() => void)[] = []
  private ready = 0

  private constructor(
    private readonly pub: Client,
    private readonly sub: Client,
    private readonly options: RedisBusOptions,
  ) {
    this.nodeId = options.nodeId ?? randomUUID()
    this.prefix = options.prefix ?? 'valv:'
    this.id = Buffer.from(this.nodeId)
    // Every `ready` after the first is a reconnect: messages may have been lost meanwhile.
    sub.on('ready', () => {
      if (this.ready++ > 0) for (const h of this.resync) h()
    })
  }

  /** Connect the publishing and the subscribing client. */
  static async connect(options: RedisBusOptions): Promise<RedisBus> {
    const reconnectStrategy = (retries: number) => Math.min(50 * 2 ** retries, 2000)
    const pub = createClient({ url: options.url, socket: { reconnectStrategy } })
    const sub = pub.duplicate() as unknown as Client
    // Without listeners a connection error would crash the process; reconnects are automatic.
    const onError = (err: unknown) => options.onError?.(err)
    pub.on('error', onError)
    sub.on('error', onError)
    const bus = new RedisBus(pub as unknown as Client, sub, options)
    await Promise.all([pub.connect(), sub.connect()])
    return bus
  }

  /** Subscribe to the document's channel. */
  async join(docId: string, onFrame: (frame: Frame) => void): Promise<void> {
    this.handlers.set(docId, onFrame)
    await this.sub.subscribe(this.channel(docId), (message) => this.receive(docId, message), true)
  }

  /** Unsubscribe from the document's channel. */
  async leave(docId: string): Promise<void> {
    this.handlers.delete(docId)
    await this.sub.unsubscribe(this.channel(docId))
  }

  /** Publish `frame` on the document's channel (fire and forget). */
  publish(docId: string, frame: Frame): void {
    const bytes = encodeFrame(frame)
    const message = Buffer.allocUnsafe(1 + this.id.length + bytes.length)
    message[0] = this.id.length
    this.id.copy(message, 1)
    message.set(bytes, 1 + this.id.length)
    this.pub.publish(this.channel(docId), message).catch((err) => this.options.onError?.(err))
  }

  /** Run `handler` after every reconnect of the subscribing client. */
  onResync(handler: () => void): void {
    this.resync.push(handler)
  }

  /** Close both clients. */
  async close(): Promise<void> {
    this.handlers.clear()
    let timer: NodeJS.Timeout | undefined
    const closed = Promise.allSettled([this.sub.close(), this.pub.close()])
    const waited = new Promise((resolve) => {
      timer = setTimeout(resolve, CLOSE_WAIT_MS)
    })
    await Promise.race([closed, waited])
    clearTimeout(timer)
    // Nothing is lost by cutting the connections: the bus only carries hints.
    for (const client of [this.sub, this.pub]) {
      try {
        client.destroy()
      } catch {
        // already closed
      }
    }
  }

  private channel(docId: string): string {
    return `${this.prefix}doc:${docId}`
  }

  private receive(docId: string, message: Buffer): void {
    const n = message[0] ?? 0
    // Our own message: local subscribers already have it.
    if (message.subarray(1, 1 + n).equals(this.id)) return
    const handler = this.handlers.get(docId)
    if (!handler) return
    let frame: Frame
    try {
      const at = 1 + n
      frame = decodeFrame(
        new Uint8Array(message.buffer, message.byteOffset + at, message.length - at),
      )
    } catch {
      return // not ours to answer; nodes only publish frames they encoded
    }
    handler(frame)
  }
}
