/** Client-side pacing of frames, below the relay's per-connection rate limit. */
export interface PacingOptions {
  /** Sustained frames per second (default 400; the relay's default limit is 500). */
  readonly perSecond?: number
  /** Frames sent at once before pacing starts (default 800; the relay's burst is 1000). */
  readonly burst?: number
}

/**
 * A token bucket in front of a socket: frames beyond the budget wait in order and go out as
 * tokens refill, so many documents catching up at once on one connection never trip the
 * relay's rate limit (close 4529) and start over.
 */
export class Pacer {
  private tokens: number
  private last = Date.now()
  private readonly perSecond: number
  private readonly burst: number
  private readonly waiting: Uint8Array[] = []
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly write: (bytes: Uint8Array) => void,
    options: PacingOptions = {},
  ) {
    this.perSecond = Math.max(1, options.perSecond ?? 400)
    this.burst = Math.max(1, options.burst ?? 800)
    this.tokens = this.burst
  }

  /** Frames waiting for a token. */
  get backlog(): number {
    return this.waiting.length
  }

  /** Send now if the budget allows and nothing waits, else queue behind the waiting ones. */
  send(bytes: Uint8Array): void {
    this.refill()
    if (this.waiting.length === 0 && this.tokens >= 1) {
      this.tokens -= 1
      this.write(bytes)
      return
    }
    this.waiting.push(bytes)
    this.schedule()
  }

  /** Forget waiting frames (the socket is gone; documents resend after subscribing again). */
  reset(): void {
    this.waiting.length = 0
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.tokens = this.burst
    this.last = Date.now()
  }

  private refill(): void {
    const now = Date.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond)
    this.last = now
  }

  private schedule(): void {
    if (this.timer !== undefined) return
    const wait = Math.max(1, Math.ceil(((1 - this.tokens) / this.perSecond) * 1000))
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.refill()
      while (this.waiting.length > 0 && this.tokens >= 1) {
        this.tokens -= 1
        this.write(this.waiting.shift() as Uint8Array)
      }
      if (this.waiting.length > 0) this.schedule()
    }, wait)
  }
}
