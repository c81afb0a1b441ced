import type * as Y from 'yjs'
import { parseBucketKey } from './ids.js'

/**
 * In-memory index of a channel's bucket keys by stream and level, so a page read visits only the
 * newest levels instead of every bucket. Buckets are never removed, so the index only grows; it
 * is built once from the keys (not the messages) and then updated from key changes.
 */
export class StreamIndex {
  private readonly streams = new Map<string, Map<number, string[]>>()
  private readonly sorted = new Map<string, number[]>()

  constructor(buckets: Y.Map<Y.Map<unknown>>) {
    for (const key of buckets.keys()) this.add(key)
  }

  /** Record a new bucket key. */
  add(key: string): void {
    const p = parseBucketKey(key)
    if (!p) return
    let levels = this.streams.get(p.stream)
    if (!levels) {
      levels = new Map()
      this.streams.set(p.stream, levels)
    }
    const keys = levels.get(p.level)
    if (keys) {
      if (!keys.includes(key)) keys.push(key)
    } else {
      levels.set(p.level, [key])
      this.sorted.delete(p.stream)
    }
  }

  /** Levels of a stream, newest first. */
  levels(stream: string): readonly number[] {
    let s = this.sorted.get(stream)
    if (!s) {
      s = [...(this.streams.get(stream)?.keys() ?? [])].sort((a, b) => b - a)
      this.sorted.set(stream, s)
    }
    return s
  }

  /** Bucket keys of one level of a stream. */
  keys(stream: string, level: number): readonly string[] {
    return this.streams.get(stream)?.get(level) ?? []
  }
}
