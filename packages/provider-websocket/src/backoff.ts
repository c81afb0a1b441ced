/** Reconnect timing. */
export interface BackoffOptions {
  /** First delay in ms (default 100). */
  readonly minMs?: number
  /** Largest delay in ms (default 10 000). */
  readonly maxMs?: number
}

/**
 * Exponential backoff with full jitter: attempt n waits a uniform random time in
 * `[0, min(maxMs, minMs * 2^n)]`, so many clients dropped at once do not reconnect in step.
 */
export class Backoff {
  private attempt = 0
  private readonly minMs: number
  private readonly maxMs: number

  constructor(
    options: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.minMs = options.minMs ?? 100
    this.maxMs = options.maxMs ?? 10_000
  }

  /** The next delay; `factor` stretches it (e.g. after a rate-limit close). */
  next(factor = 1): number {
    const cap = Math.min(this.maxMs, this.minMs * 2 ** this.attempt * factor)
    this.attempt = Math.min(this.attempt + 1, 30)
    return Math.max(this.minMs / 2, this.random() * cap)
  }

  /** Start over after a successful connection. */
  reset(): void {
    this.attempt = 0
  }
}
