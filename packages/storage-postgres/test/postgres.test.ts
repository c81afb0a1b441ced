import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { StorageError } from '@valv/storage'
import { checkAgainstModel } from '@valv/storage/conformance'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migratePostgres, PostgresStorageAdapter } from '../src/index.js'
import {
  all,
  collect,
  digest,
  dropSchema,
  freshSchema,
  pattern,
  peakMemoryGrowth,
  sql,
  testConnectionString,
} from './helpers.js'

const bytes = (...values: number[]) => new Uint8Array(values)
const run = promisify(execFile)

describe('PostgresStorageAdapter (real PostgreSQL)', () => {
  let url: string
  const schemas: string[] = []
  const adapters: PostgresStorageAdapter[] = []
  const open = (options: { schema?: string; autoMigrate?: boolean; chunkSize?: number } = {}) => {
    const schema = options.schema ?? freshSchema()
    if (!schemas.includes(schema)) schemas.push(schema)
    const adapter = new PostgresStorageAdapter({
      connectionString: url,
      schema,
      chunkSize: options.chunkSize ?? 1 << 16,
      ...(options.autoMigrate === undefined ? {} : { autoMigrate: options.autoMigrate }),
    })
    adapters.push(adapter)
    return { adapter, schema }
  }
  const rowCounts = async (schema: string) => {
    const [row] = await sql<{ v: string; b: string; c: string }>(
      url,
      `SELECT (SELECT count(*) FROM "${schema}".valv_values) AS v, (SELECT count(*) FROM "${schema}".valv_blobs) AS b,
              (SELECT count(*) FROM "${schema}".valv_chunks) AS c`,
    )
    return { values: Number(row?.v), blobs: Number(row?.b), chunks: Number(row?.c) }
  }

  beforeAll(async () => {
    url = await testConnectionString()
  })
  afterAll(async () => {
    for (const adapter of adapters) await adapter.close()
    for (const schema of schemas) await dropSchema(url, schema)
  })

  it('orders children and values segment by segment, even around "-" and "."', async () => {
    const { adapter } = open()
    const keys = [['a'], ['a-b'], ['a.b'], ['a', 'x'], ['a', 'x', 'deep'], ['b'], ['a0']]
    for (const [i, key] of keys.entries()) await adapter.put(key, bytes(i))
    await adapter.putStream(['a', 'blob'], pattern(10))
    expect(await all(adapter.listChildren([]))).toEqual(['a', 'a-b', 'a.b', 'a0', 'b'])
    expect(await all(adapter.listChildren(['a']))).toEqual(['blob', 'x'])
    expect((await all(adapter.list({ prefix: [] }))).map((e) => e.key.join('/'))).toEqual([
      'a',
      'a-b',
      'a.b',
      'a0',
      'b',
    ])
    // list sees values only, never blobs.
    expect((await all(adapter.list({ prefix: ['a'] }))).map((e) => e.key)).toEqual([['a', 'x']])
    expect(await adapter.get(['a', 'blob'])).toBeUndefined()
  })

  it('pages through more entries and children than one query returns', async () => {
    const { adapter } = open()
    const n = 600
    for (let i = 0; i < n; i++)
      await adapter.put(['d', String(i).padStart(4, '0')], bytes(i & 0xff))
    for (let i = 0; i < n; i++)
      await adapter.put(['docs', `doc${String(i).padStart(4, '0')}`, 'log', '1'], bytes(1))
    const listed = await all(adapter.list({ prefix: ['d'], start: '0100', end: '0550' }))
    expect(listed.length).toBe(450)
    expect(listed[0]?.key).toEqual(['d', '0100'])
    expect(listed[449]?.key).toEqual(['d', '0549'])
    expect((await all(adapter.list({ prefix: ['d'], limit: 300 }))).length).toBe(300)
    const children = await all(adapter.listChildren(['docs']))
    expect(children.length).toBe(n)
    expect(children).toEqual([...children].sort())
  })

  it('migrates idempotently and concurrently, and explicitly via migratePostgres', async () => {
    const schema = freshSchema()
    schemas.push(schema)
    const runs = await Promise.all(
      [1, 2, 3].map(() => migratePostgres({ connectionString: url, schema })),
    )
    expect(runs).toEqual([1, 1, 1])
    expect(await migratePostgres({ connectionString: url, schema })).toBe(1)
    const { adapter } = open({ schema, autoMigrate: false })
    await adapter.put(['k'], bytes(7))
    expect(await adapter.get(['k'])).toEqual(bytes(7))
  })

  it("reports a missing table as 'missing-backend' when auto-migration is off", async () => {
    const { adapter } = open({ autoMigrate: false })
    await expect(adapter.get(['k'])).rejects.toMatchObject({ code: 'missing-backend' })
    await expect(adapter.put(['k'], bytes(1))).rejects.toMatchObject({ code: 'missing-backend' })
  })

  it("reports an unreachable server as retryable 'unavailable'", async () => {
    const adapter = new PostgresStorageAdapter({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      readRetries: 1,
    })
    const error = await adapter.get(['k']).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StorageError)
    expect(error).toMatchObject({ code: 'unavailable', retryable: true })
    await adapter.close()
  })

  it('retries reads on a fresh connection after the server drops the pooled ones', async () => {
    const { adapter } = open()
    await adapter.put(['k'], bytes(1, 2, 3))
    expect(await adapter.get(['k'])).toEqual(bytes(1, 2, 3))
    const killed = await sql<{ ok: boolean }>(
      url,
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
       WHERE datname = 'test' AND pid <> pg_backend_pid() AND application_name = '' AND state = 'idle'
         AND query LIKE '%valv_values%'`,
    )
    expect(killed.length).toBeGreaterThan(0)
    expect(await adapter.get(['k'])).toEqual(bytes(1, 2, 3))
  })

  it("maps a full disk (SQLSTATE 53100) to 'full' and writes nothing", async () => {
    const { adapter, schema } = open()
    await adapter.migrate()
    // A trigger makes the real server raise the disk-full condition on insert.
    await sql(
      url,
      `CREATE FUNCTION "${schema}".disk_full() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN RAISE EXCEPTION 'no space' USING ERRCODE = '53100'; END $$;
       CREATE TRIGGER disk_full BEFORE INSERT ON "${schema}".valv_chunks FOR EACH ROW EXECUTE FUNCTION "${schema}".disk_full();`,
    )
    const error = await adapter.putStream(['f'], pattern(1000)).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'full', retryable: false })
    expect(await adapter.getStream(['f'])).toBeUndefined()
    expect(await rowCounts(schema)).toEqual({ values: 0, blobs: 0, chunks: 0 })
  })

  it('stores blobs as chunk rows and swaps them atomically', async () => {
    const { adapter, schema } = open({ chunkSize: 1 << 16 })
    const size = 3 * 65536 + 5
    expect(await adapter.putStream(['b'], pattern(size, 1000))).toBe(size)
    expect(await rowCounts(schema)).toEqual({ values: 0, blobs: 1, chunks: 4 })
    // A source failing halfway leaves the old blob and no stray chunks.
    async function* failing() {
      yield* pattern(200_000, 1000, 9)
      throw new Error('source broke')
    }
    await expect(adapter.putStream(['b'], failing())).rejects.toThrow('source broke')
    expect(await collect((await adapter.getStream(['b']))!)).toEqual(
      await collect(pattern(size, 1000)),
    )
    expect(await rowCounts(schema)).toEqual({ values: 0, blobs: 1, chunks: 4 })
    // Concurrent replacements: one wins whole, the loser's chunks are gone.
    await Promise.all([
      adapter.putStream(['b'], pattern(70_000, 999, 2)),
      adapter.putStream(['b'], pattern(10, 10, 3)),
    ])
    const final = await collect((await adapter.getStream(['b']))!)
    expect([70_000, 10]).toContain(final.length)
    expect((await rowCounts(schema)).chunks).toBe(final.length === 10 ? 1 : 2)
  })

  it('streams a 50 MiB blob in and out in constant memory', async () => {
    const { adapter } = open({ chunkSize: 1 << 20 })
    await adapter.putStream(['warm-up'], pattern(3 << 20, 1 << 20))
    const size = 50 << 20
    let written = 0
    const putGrowth = await peakMemoryGrowth(async () => {
      written = await adapter.putStream(['big'], pattern(size, 1 << 20, 4))
    })
    expect(written).toBe(size)
    let read = { sha: '', size: 0 }
    const getGrowth = await peakMemoryGrowth(async () => {
      read = await digest((await adapter.getStream(['big']))!)
    })
    expect(read).toEqual(await digest(pattern(size, 1 << 20, 4)))
    // A few 1 MiB chunks in flight plus pg's buffers and hex decoding (measured 5-24 MiB on a
    // loaded machine); holding the blob would need more than 50 MiB.
    expect(putGrowth, 'putStream live memory growth').toBeLessThan(32 << 20)
    expect(getGrowth, 'getStream live memory growth').toBeLessThan(32 << 20)
  })

  it('lets two adapters on one database write the same log concurrently', async () => {
    const { adapter: a, schema } = open()
    const { adapter: b } = open({ schema })
    const seqs = Array.from({ length: 200 }, (_, i) => String(i).padStart(4, '0'))
    await Promise.all(
      seqs.map((s, i) => (i % 2 === 0 ? a : b).put(['doc', 'd', 'log', s], bytes(i & 0xff))),
    )
    // A retried append with the same bytes is a no-op.
    await b.put(['doc', 'd', 'log', '0000'], bytes(0))
    for (const reader of [a, b]) {
      const listed = await all(reader.list({ prefix: ['doc', 'd', 'log'] }))
      expect(listed.map((e) => e.key[3])).toEqual(seqs)
    }
  })

  it('keeps a reader on the version it opened while the blob is replaced', async () => {
    const { adapter } = open({ chunkSize: 1 << 16 })
    await adapter.putStream(['b'], pattern(4 * 65536, 4096, 1))
    const stream = (await adapter.getStream(['b']))!
    const iterator = stream[Symbol.asyncIterator]()
    const first = await iterator.next()
    await adapter.putStream(['b'], pattern(100, 100, 5))
    const parts = [first.value as Uint8Array]
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) parts.push(r.value)
    expect(Buffer.concat(parts)).toEqual(Buffer.from(await collect(pattern(4 * 65536, 4096, 1))))
  })

  it('erases a prefix completely: no values, blob rows or chunks remain', async () => {
    const { adapter, schema } = open()
    await adapter.put(['doc', 'x', 'log', '1'], bytes(1))
    await adapter.put(['doc', 'x'], bytes(2))
    await adapter.putStream(['doc', 'x', 'file'], pattern(200_000))
    await adapter.put(['doc', 'x-y'], bytes(3))
    await adapter.putStream(['doc', 'x-y', 'file'], pattern(10))
    await adapter.deletePrefix(['doc', 'x'])
    expect(await rowCounts(schema)).toEqual({ values: 1, blobs: 1, chunks: 1 })
    await adapter.deletePrefix([])
    expect(await rowCounts(schema)).toEqual({ values: 0, blobs: 0, chunks: 0 })
  })

  it("throws 'invalid-key' before any I/O and 'closed' after close()", async () => {
    const { adapter } = open({ autoMigrate: false })
    await expect(adapter.put(['a/b'], bytes(1))).rejects.toMatchObject({ code: 'invalid-key' })
    await expect(adapter.get([])).rejects.toMatchObject({ code: 'invalid-key' })
    await adapter.close()
    await expect(adapter.get(['k'])).rejects.toMatchObject({ code: 'closed' })
  })
})

describe('valv-postgres-migrate CLI', () => {
  it('creates the tables in the given schema and reports the version', async () => {
    const url = await testConnectionString()
    const schema = freshSchema()
    const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
    try {
      const { stdout } = await run(process.execPath, [
        '--import',
        'tsx',
        cli,
        '--url',
        url,
        '--schema',
        schema,
      ])
      expect(stdout).toContain('schema version 1')
      const tables = await sql<{ t: string }>(
        url,
        'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
        [schema],
      )
      expect(tables.map((r) => r.t)).toEqual([
        'valv_blobs',
        'valv_chunks',
        'valv_meta',
        'valv_values',
      ])
      const failed = await run(process.execPath, [
        '--import',
        'tsx',
        cli,
        '--url',
        'postgres://x@127.0.0.1:1/test',
      ]).catch((e: { code: number; stderr: string }) => e)
      expect(failed).toMatchObject({ code: 1 })
      expect((failed as { stderr: string }).stderr).toContain('unavailable')
    } finally {
      await dropSchema(url, schema)
    }
  }, 30_000)
})

describe('PostgresStorageAdapter against a model (property)', () => {
  it('agrees with an in-memory model on random histories', async () => {
    const url = await testConnectionString()
    const schema = freshSchema()
    const adapter = new PostgresStorageAdapter({ connectionString: url, schema })
    try {
      await checkAgainstModel(adapter, 25)
    } finally {
      await adapter.close()
      await dropSchema(url, schema)
    }
  }, 60_000)
})
