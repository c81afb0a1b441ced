/**
 * Remote storage adapters (PostgreSQL, S3-compatible) under the storage workload: append
 * envelopes of realistic sizes to one document's log, then read the log back.
 *
 * Envelope sizes come from the automerge-paper trace: one Yjs update per edit (about 24 B of
 * overhead plus the inserted text) wrapped in about 120 B of envelope (header, nonce, tag,
 * signature). Appends are durable (each resolves only when committed), with 32 in flight as a
 * relay serving many clients would have. Baselines are the raw primitive in the same run: a
 * plain `INSERT` into a bytea table for PostgreSQL, plain `PutObject`/`GetObject` for S3.
 *
 * Needs PostgreSQL on 127.0.0.1:5432 (database `test`) and starts s3rver on loopback (a local
 * file-backed S3 server: its figures show the adapter's request pattern, not AWS latency).
 * IndexedDB can only be measured inside a browser and is not covered here.
 */
import { randomBytes } from 'node:crypto'
import { statSync } from 'node:fs'
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import pg from 'pg'
import { PostgresStorageAdapter } from '../packages/storage-postgres/src/index.js'
import {
  dropSchema,
  freshSchema,
  testConnectionString,
} from '../packages/storage-postgres/test/helpers.js'
import { S3StorageAdapter } from '../packages/storage-s3/src/index.js'
import { startS3 } from '../packages/storage-s3/test/s3rver.js'
import { type Benchmark, type BenchRow, loadTrace } from './harness.js'

const ENVELOPE_OVERHEAD = 120
const YJS_UPDATE_OVERHEAD = 24
const IN_FLIGHT = 32

/** Envelope byte strings sized like the trace's per-edit updates. */
function envelopes(count: number): Uint8Array[] {
  const trace = loadTrace('automerge-paper', count)
  const encoder = new TextEncoder()
  return trace.edits.slice(0, count).map((edit) => {
    const size = ENVELOPE_OVERHEAD + YJS_UPDATE_OVERHEAD + encoder.encode(edit.text).length
    return new Uint8Array(randomBytes(size))
  })
}

/** Run `task(i)` for every index with at most {@link IN_FLIGHT} pending; returns seconds. */
async function timed(count: number, task: (i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(IN_FLIGHT, count) }, async () => {
      while (next < count) await task(next++)
    }),
  )
  return (performance.now() - start) / 1000
}

const seqKey = (i: number) => String(i).padStart(12, '0')
const mb = (bytes: number) => bytes / 1e6

async function postgres(items: Uint8Array[], total: number): Promise<BenchRow[]> {
  const url = await testConnectionString()
  const schema = freshSchema()
  const adapter = new PostgresStorageAdapter({
    connectionString: url,
    schema,
    poolConfig: { max: 8 },
  })
  const raw = new pg.Pool({ connectionString: url, max: 8, options: '-c synchronous_commit=on' })
  try {
    await adapter.migrate()
    await raw.query(`CREATE TABLE "${schema}".raw (seq bigint PRIMARY KEY, value bytea NOT NULL)`)
    const log = ['docs', 'bench', 'log']
    const appendS = await timed(items.length, (i) => adapter.put([...log, seqKey(i)], items[i]!))
    const rawAppendS = await timed(items.length, (i) =>
      raw.query(`INSERT INTO "${schema}".raw VALUES ($1, $2)`, [i, items[i]!]),
    )
    let read = 0
    let start = performance.now()
    for await (const entry of adapter.list({ prefix: log })) read += entry.value.byteLength
    const readS = (performance.now() - start) / 1000
    start = performance.now()
    let rawRead = 0
    for (let from = 0; ; from += 256) {
      const rows = await raw.query<{ value: Buffer }>(
        `SELECT value FROM "${schema}".raw WHERE seq >= $1 ORDER BY seq LIMIT 256`,
        [from],
      )
      for (const row of rows.rows) rawRead += row.value.byteLength
      if (rows.rows.length < 256) break
    }
    const rawReadS = (performance.now() - start) / 1000
    if (read !== total || rawRead !== total)
      throw new Error('postgres read back a different byte count')
    await raw.query(`VACUUM ANALYZE "${schema}".valv_values, "${schema}".raw`)
    const size = await raw.query<{ a: string; r: string }>(
      `SELECT pg_total_relation_size('"${schema}".valv_values') AS a, pg_total_relation_size('"${schema}".raw') AS r`,
    )
    const n = items.length
    return [
      {
        name: 'postgres appends/s (32 in flight)',
        value: n / appendS,
        unit: 'ops/s',
        baseline: n / rawAppendS,
      },
      {
        name: 'postgres read',
        value: mb(total) / readS,
        unit: 'MB/s',
        baseline: mb(total) / rawReadS,
      },
      {
        name: 'postgres bytes on disk per envelope (table+index+toast)',
        value: Number(size.rows[0]!.a) / n,
        unit: 'B',
        baseline: Number(size.rows[0]!.r) / n,
      },
    ]
  } finally {
    await adapter.close()
    await raw.end()
    await dropSchema(url, schema)
  }
}

async function s3(items: Uint8Array[], total: number): Promise<BenchRow[]> {
  const server = await startS3()
  const options = await server.bucket()
  const adapter = new S3StorageAdapter(options)
  const raw = new S3Client({ ...options, requestChecksumCalculation: 'WHEN_REQUIRED' })
  try {
    const log = ['docs', 'bench', 'log']
    const n = items.length
    const appendS = await timed(n, (i) => adapter.put([...log, seqKey(i)], items[i]!))
    const rawAppendS = await timed(n, (i) =>
      raw.send(
        new PutObjectCommand({ Bucket: options.bucket, Key: `raw/${seqKey(i)}`, Body: items[i]! }),
      ),
    )
    let read = 0
    let start = performance.now()
    for await (const entry of adapter.list({ prefix: log })) read += entry.value.byteLength
    const readS = (performance.now() - start) / 1000
    let rawRead = 0
    start = performance.now()
    await timed(n, async (i) => {
      const out = await raw.send(
        new GetObjectCommand({ Bucket: options.bucket, Key: `raw/${seqKey(i)}` }),
      )
      rawRead += (await out.Body!.transformToByteArray()).byteLength
    })
    const rawReadS = (performance.now() - start) / 1000
    if (read !== total || rawRead !== total) throw new Error('s3 read back a different byte count')
    const files = server.rawFiles(options.bucket).filter((f) => f.path.includes('/docs/'))
    const onDisk = files.reduce((sum, f) => sum + statSync(f.path).blocks * 512, 0)
    const apparent = files.reduce((sum, f) => sum + f.bytes.byteLength, 0)
    return [
      {
        name: 's3rver appends/s (32 in flight)',
        value: n / appendS,
        unit: 'ops/s',
        baseline: n / rawAppendS,
      },
      {
        name: 's3rver read (list + GET, 16 parallel)',
        value: mb(total) / readS,
        unit: 'MB/s',
        baseline: mb(total) / rawReadS,
      },
      {
        name: 's3rver bytes stored per envelope (object + metadata files)',
        value: apparent / n,
        unit: 'B',
        baseline: total / n,
      },
      {
        name: 's3rver bytes on disk per envelope (4 KiB blocks)',
        value: onDisk / n,
        unit: 'B',
        baseline: total / n,
      },
    ]
  } finally {
    await adapter.close()
    raw.destroy()
    await server.stop()
  }
}

const bench: Benchmark = async ({ quick }) => {
  const items = envelopes(quick ? 1000 : 100_000)
  const total = items.reduce((sum, e) => sum + e.byteLength, 0)
  const s3Items = quick ? items.slice(0, 300) : items.slice(0, 20_000)
  const s3Total = s3Items.reduce((sum, e) => sum + e.byteLength, 0)
  return [
    {
      name: 'envelopes appended (mean size)',
      value: total / items.length,
      unit: 'B',
      baseline: null,
    },
    ...(await postgres(items, total)),
    ...(await s3(s3Items, s3Total)),
  ]
}

export default bench
