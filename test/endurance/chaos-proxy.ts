/**
 * A WebSocket proxy on loopback between clients and the relay that injects network faults at the
 * frame level, every decision drawn from a seeded generator:
 *
 * - **delay**: a frame waits (order is kept, as on TCP);
 * - **stall**: one direction of a connection stops for a while, then goes on;
 * - **duplicate**: a client's frame reaches the relay twice (exercises idempotent retry);
 * - **drop**: a frame is lost and, as TCP cannot lose a frame without losing the connection,
 *   the connection is reset;
 * - **partition**: every connection is reset and new ones are refused for a while.
 *
 * The relay can be swapped underneath (`target`), as after a SIGKILL and restart.
 */
import type { AddressInfo } from 'node:net'
import { type RawData, WebSocket, WebSocketServer } from 'ws'
import type { Rng } from './seed.js'

/** Fault probabilities per frame and their durations. */
export interface Faults {
  readonly delay: number
  readonly maxDelayMs: number
  readonly stall: number
  readonly maxStallMs: number
  readonly duplicate: number
  readonly drop: number
}

/** Faults on (the default chaos of a run). */
export const CHAOS: Faults = {
  delay: 0.2,
  maxDelayMs: 40,
  stall: 0.01,
  maxStallMs: 400,
  duplicate: 0.05,
  drop: 0.01,
}

/** What the proxy did, for a run's figures. */
export interface ProxyCounts {
  frames: number
  delayed: number
  stalled: number
  duplicated: number
  dropped: number
  partitions: number
}

/** The chaos proxy; `faults` undefined forwards faithfully. */
export class ChaosProxy {
  faults: Faults | undefined
  readonly counts: ProxyCounts = {
    frames: 0,
    delayed: 0,
    stalled: 0,
    duplicated: 0,
    dropped: 0,
    partitions: 0,
  }
  private partitionedUntil = 0
  private readonly pairs = new Set<{ a: WebSocket; b: WebSocket }>()

  private constructor(
    private readonly wss: WebSocketServer,
    public target: string,
    private readonly random: Rng,
  ) {
    wss.on('connection', (client) => this.accept(client))
  }

  /** Listen on an ephemeral loopback port in front of `target` (a `ws://` URL). */
  static async start(target: string, random: Rng): Promise<ChaosProxy> {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    await new Promise((resolve) => wss.once('listening', resolve))
    return new ChaosProxy(wss, target, random)
  }

  /** The URL clients connect to. */
  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`
  }

  /** Reset every connection and refuse new ones for `ms`. */
  partition(ms: number): void {
    this.counts.partitions++
    this.partitionedUntil = Date.now() + ms
    this.resetAll()
  }

  /** Reset every connection (clients reconnect). */
  resetAll(): void {
    for (const { a, b } of this.pairs) {
      a.terminate()
      b.terminate()
    }
    this.pairs.clear()
  }

  /** Close the proxy. */
  async close(): Promise<void> {
    this.resetAll()
    await new Promise((resolve) => this.wss.close(resolve))
  }

  private accept(client: WebSocket): void {
    if (Date.now() < this.partitionedUntil) return void client.terminate()
    const upstream = new WebSocket(this.target)
    const pair = { a: client, b: upstream }
    this.pairs.add(pair)
    const reset = () => {
      this.pairs.delete(pair)
      client.terminate()
      upstream.terminate()
    }
    for (const s of [client, upstream]) {
      s.on('error', reset)
      s.on('close', reset)
    }
    this.pipe(client, upstream, true, reset)
    this.pipe(upstream, client, false, reset)
  }

  /** Forward `from` → `to` in order, with the faults drawn per frame. */
  private pipe(from: WebSocket, to: WebSocket, upward: boolean, reset: () => void): void {
    let chain: Promise<void> = new Promise((resolve) => {
      if (to.readyState === WebSocket.OPEN) resolve()
      else to.once('open', () => resolve())
    })
    const wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
    from.on('message', (data: RawData, isBinary: boolean) => {
      this.counts.frames++
      const f = this.faults
      let hold = 0
      let copies = 1
      let drop = false
      if (f) {
        if (this.random.chance(f.drop)) drop = true
        else {
          if (this.random.chance(f.delay)) {
            hold += this.random.int(1, f.maxDelayMs)
            this.counts.delayed++
          }
          if (this.random.chance(f.stall)) {
            hold += this.random.int(f.maxStallMs / 4, f.maxStallMs)
            this.counts.stalled++
          }
          // Only toward the relay: TCP never duplicates, a retrying client does.
          if (upward && this.random.chance(f.duplicate)) {
            copies = 2
            this.counts.duplicated++
          }
        }
      }
      chain = chain.then(async () => {
        if (hold > 0) await wait(hold)
        if (drop) {
          this.counts.dropped++
          return reset()
        }
        for (let i = 0; i < copies; i++) {
          if (to.readyState === WebSocket.OPEN) to.send(data, { binary: isBinary })
        }
      })
    })
  }
}
