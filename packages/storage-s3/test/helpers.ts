import { createHash } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** Deterministic bytes as a lazy stream of `piece`-sized parts. */
export async function* pattern(total: number, piece = 65536, seed = 1): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < total; offset += piece) {
    const n = Math.min(piece, total - offset)
    const bytes = new Uint8Array(n)
    for (let i = 0; i < n; i++) bytes[i] = (offset * 7 + i * 13 + seed) & 0xff
    yield bytes
  }
}

/** SHA-256 and length of a stream, consumed in constant memory. */
export async function digest(
  stream: AsyncIterable<Uint8Array>,
): Promise<{ sha: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const part of stream) {
    hash.update(part)
    size += part.length
  }
  return { sha: hash.digest('hex'), size }
}

/** Drain an async iterable into an array. */
export async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

// A forced GC before each sample measures live memory, not garbage the collector has not
// reached yet; `--expose-gc` can be switched on at runtime for that.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Peak growth of live `arrayBuffers + heapUsed` while `run` executes, sampled every 20 ms. */
export async function peakMemoryGrowth(run: () => Promise<unknown>): Promise<number> {
  const used = () => {
    gc()
    const m = process.memoryUsage()
    return m.arrayBuffers + m.heapUsed
  }
  const base = used()
  let peak = base
  const timer = setInterval(() => {
    peak = Math.max(peak, used())
  }, 20)
  try {
    await run()
  } finally {
    clearInterval(timer)
  }
  return peak - base
}
