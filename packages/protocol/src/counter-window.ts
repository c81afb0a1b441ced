import { CryptoError } from './errors.js'

/**
 * Counter freshness per author: each author's counters must strictly increase. A reader keeps
 * one window per document and stream (relay: per stored log; client: per received stream).
 *
 * @example
 * ```ts
 * const counters = new CounterWindow()
 * counters.accept('author-1', 1)
 * counters.accept('author-1', 1) // throws CryptoError('replay')
 * ```
 */
export class CounterWindow {
  private readonly last = new Map<string, number>()

  /** Throw `replay` unless `counter` is greater than the last accepted one of `author`. */
  check(author: string, counter: number): void {
    const seen = this.last.get(author)
    if (seen !== undefined && counter <= seen) {
      throw new CryptoError('replay', `counter ${counter} is not after ${seen}`)
    }
  }

  /** {@link check}, then remember `counter` as the newest of `author`. */
  accept(author: string, counter: number): void {
    this.check(author, counter)
    this.last.set(author, counter)
  }

  /** The newest accepted counter of `author`, or 0. */
  newest(author: string): number {
    return this.last.get(author) ?? 0
  }
}
