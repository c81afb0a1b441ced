import type { StorageAdapter } from '@valv/storage'

/** Timing of the relay's storage readiness probe (`GET /readyz`). */
export interface ReadinessOptions {
  /** Probe storage this often while it works, in ms (default 5000; 0 = never probe). */
  readonly intervalMs?: number
  /** A probe that takes longer than this counts as a failure (frozen storage), in ms (default 2000). */
  readonly timeoutMs?: number
  /** First retry delay after a failure, doubled up to `intervalMs` (default 250). */
  readonly retryMs?: number
}

// Outside `docs/`, so no document layout can collide with it.
const PROBE_KEY = ['valv-relay', 'readiness'] as const

/**
 * Whether storage takes writes: the relay's readiness, served at `GET /readyz`. Any failed
 * storage write makes the relay not ready at once; a cheap probe (one small `put` through the
 * {@link StorageAdapter}, which a read-only or full store refuses) runs every `intervalMs`, and
 * after a failure with backoff from `retryMs`, until storage answers again. `/healthz` stays
 * liveness: a relay whose storage is down is alive and serves what it has in memory, but a
 * load balancer should route new sessions elsewhere.
 */
export class Readiness {
  private failing = false
  private timer: ReturnType<typeof setTimeout> | undefined
  private delay: number
  private probing = false
  private stopped = false
  private readonly intervalMs: number
  private readonly timeoutMs: number
  private readonly retryMs: number

  constructor(
    private readonly storage: StorageAdapter,
    options: ReadinessOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 5000
    this.timeoutMs = options.timeoutMs ?? 2000
    this.retryMs = options.retryMs ?? 250
    this.delay = this.retryMs
  }

  /** Whether the last storage outcome (a write or a probe) was a success. */
  get ready(): boolean {
    return !this.failing
  }

  /** Begin probing (the first probe runs at once). */
  start(): void {
    this.schedule(0)
  }

  /** Stop probing (on relay shutdown). */
  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }

  /** A storage write failed: not ready until a probe or a write succeeds; probe soon. */
  failed(): void {
    if (this.failing) return
    this.failing = true
    this.delay = this.retryMs
    this.schedule(this.delay)
  }

  /** A storage write succeeded. */
  succeeded(): void {
    this.failing = false
  }

  private schedule(ms: number): void {
    if (this.stopped) return
    clearTimeout(this.timer)
    if (!this.failing && this.intervalMs <= 0 && ms > 0) return
    this.timer = setTimeout(() => void this.probe(), ms)
    this.timer.unref?.()
  }

  private async probe(): Promise<void> {
    if (this.probing || this.stopped) return
    this.probing = true
    let ok = false
    let timeout: ReturnType<typeof setTimeout> | undefined
    try {
      const stamp = new TextEncoder().encode(String(Date.now()))
      await Promise.race([
        this.storage.put(PROBE_KEY, stamp),
        new Promise((_, reject) => {
          timeout = setTimeout(() => reject(new Error('probe timed out')), this.timeoutMs)
        }),
      ])
      ok = true
    } catch {
      ok = false
    } finally {
      clearTimeout(timeout)
      this.probing = false
    }
    if (ok) {
      this.failing = false
      this.delay = this.retryMs
      this.schedule(this.intervalMs)
    } else {
      this.failing = true
      this.schedule(this.delay)
      this.delay = Math.min(this.delay * 2, Math.max(this.intervalMs, this.retryMs))
    }
  }
}
