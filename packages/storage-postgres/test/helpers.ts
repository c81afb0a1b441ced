import { createHash, randomBytes } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import pg from 'pg'

/** The test server: PostgreSQL on loopback, database `test`, trust auth as `postgres` or `root`. */
export async function testConnectionString(): Promise<string> {
  for (const user of ['postgres', 'root']) {
    const url = `postgres://${user}@127.0.0.1:5432/test`
    const client = new pg.Client({ connectionString: url })
    try {
      await client.connect()
      await client.end()
      return url
    } catch {
      await client.end().catch(() => undefined)
    }
  }
  throw new Error('PostgreSQL test server at 127.0.0.1:5432 (database test) is not reachable')
}

/** A fresh schema name, dropped by {@link dropSchema}. */
export function freshSchema(): string {
  return `valv_t_${randomBytes(5).toString('hex')}`
}

/** Drop a test schema and everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  } finally {
    await client.end()
  }
}

/** Run one query on a short-lived connection. */
export async function sql<R extends pg.QueryResultRow>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(text, params)).rows
  } finally {
    await client.end()
  }
}

/** Bytes as an async stream of `piece`-sized parts, generated lazily. */
export async function* pattern(total: number, piece = 65536, seed = 1): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < total; offset += piece) {
    const n = Math.min(piece, total - offset)
    const bytes = new Uint8Array(n)
    for (let i = 0; i < n; i++) bytes[i] = (offset + i + seed) & 0xff
    yield bytes
  }
}

/** Concatenate a stream. */
export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of stream) parts.push(part)
  return Buffer.concat(parts)
}

/** Drain an async iterable into an array. */
export async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
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
