import {
  assertValidKey,
  type KeyRange,
  rechunk,
  type StorageAdapter,
  type StorageEntry,
  StorageError,
  type StorageKey,
} from '@valv/storage'
import pg from 'pg'
import { toStorageError } from './errors.js'
import { subtreeEnd } from './keys.js'
import { runMigrations } from './migrate.js'
import { type PostgresStorageOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { type Tables, tablesFor } from './tables.js'

const PAGE = 256
const PAGE_BYTES = 4 << 20

/**
 * {@link StorageAdapter} on PostgreSQL through a `pg.Pool`.
 *
 * Values live in one table keyed by `text[] COLLATE "C"`; blobs are split into chunk rows
 * (1 MiB by default) written inside one transaction that ends by swapping the blob's row, so
 * a crash or a failing source leaves the previous blob intact and no orphan chunks. Every
 * write is one committed transaction with `synchronous_commit = on` ("resolved = durable").
 * Reads are retried after a lost connection; writes report `unavailable` and leave the
 * retry to the caller (they are idempotent).
 *
 * @example
 * ```ts
 * const connectionString = process.env.DATABASE_URL ?? 'postgres://127.0.0.1/valv'
 * const adapter = new PostgresStorageAdapter({ connectionString })
 * const store = new DocumentStore(adapter)
 * // ...
 * await adapter.close()
 * ```
 */
export class PostgresStorageAdapter implements StorageAdapter {
  readonly #pool: pg.Pool
  readonly #ownsPool: boolean
  readonly #options: ResolvedOptions
  readonly #t: Tables
  #ready: Promise<void> | undefined
  #closed = false
  // The session that holds this adapter's advisory locks, and the names it holds.
  #lockSession: Promise<pg.PoolClient> | undefined
  readonly #held = new Set<string>()

  /** Create the adapter; no connection is made until the first call. */
  constructor(options: PostgresStorageOptions = {}) {
    this.#options = resolveOptions(options)
    this.#t = tablesFor(this.#options)
    if (options.pool) {
      this.#pool = options.pool
      this.#ownsPool = false
    } else {
      this.#pool = new pg.Pool({
        ...options.poolConfig,
        ...(options.connectionString === undefined
          ? {}
          : { connectionString: options.connectionString }),
        // A server configured with synchronous_commit=off would break "resolved = durable".
        options: `${options.poolConfig?.options ?? ''} -c synchronous_commit=on`.trim(),
      })
      // Idle clients report dropped connections here; the pool discards them. Without a
      // listener Node would crash the process on such an event.
      this.#pool.on('error', () => undefined)
      this.#ownsPool = true
    }
  }

  /**
   * Create or upgrade the tables now (for a deployment step) instead of on first use.
   * Idempotent; resolves with the installed schema version.
   */
  async migrate(): Promise<number> {
    this.#assertOpen()
    const version = await runMigrations(this.#pool, this.#t)
    this.#ready = Promise.resolve()
    return version
  }

  async get(key: StorageKey): Promise<Uint8Array | undefined> {
    assertValidKey(key)
    const rows = await this.#read('get', (c) =>
      c.query<{ value: Buffer }>(`SELECT value FROM ${this.#t.values} WHERE key = $1::text[]`, [
        key,
      ]),
    )
    const value = rows.rows[0]?.value
    return value === undefined ? undefined : toBytes(value)
  }

  async put(key: StorageKey, value: Uint8Array): Promise<void> {
    assertValidKey(key)
    if (!(value instanceof Uint8Array)) throw new TypeError('value must be a Uint8Array')
    await this.#write('put', (c) =>
      c.query(
        `INSERT INTO ${this.#t.values} (key, value) VALUES ($1::text[], $2)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
        [key, toBuffer(value)],
      ),
    )
  }

  async create(key: StorageKey, value: Uint8Array): Promise<boolean> {
    assertValidKey(key)
    if (!(value instanceof Uint8Array)) throw new TypeError('value must be a Uint8Array')
    // The primary key decides between racing writers, across processes and nodes.
    const result = await this.#write('create', (c) =>
      c.query(
        `INSERT INTO ${this.#t.values} (key, value) VALUES ($1::text[], $2)
         ON CONFLICT (key) DO NOTHING`,
        [key, toBuffer(value)],
      ),
    )
    return result.rowCount === 1
  }

  /**
   * A session-level advisory lock (`pg_try_advisory_lock`), all held on one connection of
   * this adapter: PostgreSQL releases them when that connection ends, so a node that dies
   * never blocks the others. Advisory locks nest per session; the names this adapter holds
   * are kept here so a second `tryLock` of a held name from this process is refused too.
   * If the lock connection is lost, its locks are gone: they are forgotten here as well.
   */
  async tryLock(key: StorageKey): Promise<(() => Promise<void>) | undefined> {
    assertValidKey(key)
    const name = `${this.#t.values}\n${key.join('/')}`
    if (this.#held.has(name)) return undefined
    this.#held.add(name)
    let client: pg.PoolClient
    try {
      client = await this.#lockClient()
      const r = await client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok',
        [name],
      )
      if (r.rows[0]?.ok !== true) {
        this.#held.delete(name)
        return undefined
      }
    } catch (error) {
      this.#held.delete(name)
      this.#lockSession = undefined
      throw toStorageError(error, 'tryLock')
    }
    let held = true
    return async () => {
      if (!held) return
      held = false
      this.#held.delete(name)
      await client
        .query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [name])
        .catch(() => undefined) // a lost connection released it already
    }
  }

  #lockClient(): Promise<pg.PoolClient> {
    this.#lockSession ??= this.#connect('tryLock').then((client) => {
      const lost = () => {
        if (this.#lockSession === session) this.#lockSession = undefined
        this.#held.clear()
      }
      client.on('error', lost)
      client.on('end', lost)
      return client
    })
    const session = this.#lockSession
    return session
  }

  async delete(key: StorageKey): Promise<void> {
    assertValidKey(key)
    const t = this.#t
    // One statement, so value, blob row and chunks go together.
    await this.#write('delete', (c) =>
      c.query(
        `WITH v AS (DELETE FROM ${t.values} WHERE key = $1::text[]),
              b AS (DELETE FROM ${t.blobs} WHERE key = $1::text[] RETURNING blob_id)
         DELETE FROM ${t.chunks} WHERE blob_id IN (SELECT blob_id FROM b)`,
        [key],
      ),
    )
  }

  async deletePrefix(prefix: StorageKey): Promise<void> {
    assertValidKey(prefix, true)
    const t = this.#t
    const end = subtreeEnd(prefix)
    const where = end === null ? 'TRUE' : 'key >= $1::text[] AND key < $2::text[]'
    await this.#write('deletePrefix', (c) =>
      c.query(
        `WITH v AS (DELETE FROM ${t.values} WHERE ${where}),
              b AS (DELETE FROM ${t.blobs} WHERE ${where} RETURNING blob_id)
         DELETE FROM ${t.chunks} WHERE blob_id IN (SELECT blob_id FROM b)`,
        end === null ? [] : [prefix, end],
      ),
    )
  }

  async *list(range: KeyRange): AsyncIterable<StorageEntry> {
    assertValidKey(range.prefix, true)
    if (range.start !== undefined) assertValidKey([range.start])
    if (range.end !== undefined) assertValidKey([range.end])
    let remaining = range.limit ?? Number.POSITIVE_INFINITY
    if (remaining <= 0) return
    const prefix = [...range.prefix]
    const upper = range.end === undefined ? subtreeEnd(prefix) : [...prefix, range.end]
    let lower: string[] = [...prefix, range.start ?? '']
    let inclusive = true
    let size = PAGE
    while (remaining > 0) {
      const take = Math.min(size, remaining)
      // Only the last segment travels back: parsing whole text[] keys costs more than the rows.
      const page = await this.#read('list', (c) =>
        inKeyOrder<{ name: string; value: Buffer }>(
          c,
          `SELECT key[$2] AS name, value FROM ${this.#t.values}
           WHERE key ${inclusive ? '>=' : '>'} $1::text[] AND ($4::text[] IS NULL OR key < $4::text[])
             AND cardinality(key) = $2
           ORDER BY key LIMIT $3`,
          [lower, prefix.length + 1, take, upper],
        ),
      )
      let bytes = 0
      for (const row of page.rows) {
        bytes += row.value.byteLength
        yield { key: [...prefix, row.name], value: toBytes(row.value) }
      }
      remaining -= page.rows.length
      const last = page.rows[page.rows.length - 1]
      if (page.rows.length < take || last === undefined) return
      lower = [...prefix, last.name]
      inclusive = false
      // Aim for about PAGE_BYTES per round trip: many small envelopes, few large snapshots.
      size = Math.max(
        16,
        Math.min(4096, Math.floor(PAGE_BYTES / Math.max(1, bytes / page.rows.length))),
      )
    }
  }

  async *listChildren(prefix: StorageKey): AsyncIterable<string> {
    assertValidKey(prefix, true)
    const t = this.#t
    const base = [...prefix]
    const upper = subtreeEnd(base)
    const bound = 'AND ($3::text[] IS NULL OR r.key < $3::text[])'
    // A loose index scan: each step jumps past the whole subtree of the previous child, so
    // listing documents costs one index probe per document, not one row per stored entry.
    const next = (from: string) => `LEAST(
        (SELECT r.key[$2] AS c FROM ${t.values} r WHERE r.key >= ${from} ${bound} ORDER BY r.key LIMIT 1),
        (SELECT r.key[$2] AS c FROM ${t.blobs} r WHERE r.key >= ${from} ${bound} ORDER BY r.key LIMIT 1))`
    const sql = `WITH RECURSIVE kids(child) AS (
        SELECT ${next('$1::text[]')}
        UNION ALL
        SELECT ${next(`($4::text[] || ARRAY[kids.child || chr(1)])`)} FROM kids WHERE kids.child IS NOT NULL
      ) SELECT child FROM kids WHERE child IS NOT NULL LIMIT ${PAGE}`
    let lower = [...base, '']
    for (;;) {
      const params: unknown[] = [lower, base.length + 1, upper ?? null, base]
      const page = await this.#read('listChildren', (c) =>
        inKeyOrder<{ child: string }>(c, sql, params),
      )
      for (const row of page.rows) yield row.child
      const last = page.rows[page.rows.length - 1]
      if (page.rows.length < PAGE || last === undefined) return
      lower = [...base, `${last.child}\u0001`]
    }
  }

  async putStream(key: StorageKey, source: AsyncIterable<Uint8Array>): Promise<number> {
    assertValidKey(key)
    const t = this.#t
    return this.#write('putStream', async (c) => {
      await c.query('BEGIN')
      try {
        const id = (await c.query<{ id: string }>(`SELECT nextval('${t.blobIds}') AS id`)).rows[0]!
          .id
        let size = 0
        let seq = 0
        for await (const chunk of rechunk(source, this.#options.chunkSize)) {
          await c.query(`INSERT INTO ${t.chunks} (blob_id, seq, data) VALUES ($1, $2, $3)`, [
            id,
            seq++,
            toBuffer(chunk),
          ])
          size += chunk.length
        }
        // Serialise swaps of the same key, so the blob replaced is the one whose chunks we drop.
        await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
          `valv-blob:${t.scope}:${key.join('/')}`,
        ])
        await c.query(
          `WITH old AS (SELECT blob_id FROM ${t.blobs} WHERE key = $1::text[]),
                up AS (INSERT INTO ${t.blobs} (key, blob_id, size, chunks) VALUES ($1::text[], $2, $3, $4)
                       ON CONFLICT (key) DO UPDATE SET blob_id = EXCLUDED.blob_id, size = EXCLUDED.size,
                                                       chunks = EXCLUDED.chunks)
           DELETE FROM ${t.chunks} WHERE blob_id IN (SELECT blob_id FROM old)`,
          [key, id, size, seq],
        )
        await c.query('COMMIT')
        return size
      } catch (error) {
        await c.query('ROLLBACK').catch(() => undefined)
        throw error
      }
    })
  }

  async getStream(key: StorageKey): Promise<AsyncIterable<Uint8Array> | undefined> {
    assertValidKey(key)
    const found = await this.#read('getStream', (c) =>
      c.query(`SELECT 1 FROM ${this.#t.blobs} WHERE key = $1::text[]`, [key]),
    )
    if (found.rows.length === 0) return undefined
    return this.#streamBlob(key)
  }

  // Chunks are read inside one REPEATABLE READ transaction: a concurrent replacement cannot
  // pull chunks from under the reader, who sees exactly one version of the blob.
  async *#streamBlob(key: StorageKey): AsyncGenerator<Uint8Array> {
    const t = this.#t
    const client = await this.#connect('getStream')
    let done = false
    let broken: unknown
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      const meta = await client.query<{ blob_id: string; chunks: number }>(
        `SELECT blob_id, chunks FROM ${t.blobs} WHERE key = $1::text[]`,
        [key],
      )
      const blob = meta.rows[0]
      if (blob === undefined) {
        throw new StorageError('conflict', 'blob was deleted while it was being opened', {
          retryable: true,
        })
      }
      for (let seq = 0; seq < blob.chunks; seq++) {
        const row = await client.query<{ data: Buffer }>(
          `SELECT data FROM ${t.chunks} WHERE blob_id = $1 AND seq = $2`,
          [blob.blob_id, seq],
        )
        const data = row.rows[0]?.data
        if (data === undefined) throw new StorageError('corrupt', `blob chunk ${seq} is missing`)
        yield toBytes(data)
      }
      await client.query('COMMIT')
      done = true
    } catch (error) {
      broken = error
      throw toStorageError(error, 'getStream')
    } finally {
      // Also reached when the consumer stops early: end the snapshot before pooling the client.
      if (!done) await client.query('ROLLBACK').catch(() => undefined)
      client.release(isConnectionError(broken) ? (broken as Error) : undefined)
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const locks = this.#lockSession
    this.#lockSession = undefined
    this.#held.clear()
    // Unlocked before the session ends (which would release them too, but only once the
    // server notices), so a lock is free for others when close resolves.
    if (locks) {
      await locks
        .then(async (c) => {
          await c.query('SELECT pg_advisory_unlock_all()').catch(() => undefined)
          c.release(true)
        })
        .catch(() => undefined)
    }
    if (this.#ownsPool) await this.#pool.end()
  }

  #assertOpen(): void {
    if (this.#closed) throw new StorageError('closed', 'the PostgreSQL adapter was closed')
  }

  async #ensureReady(): Promise<void> {
    this.#assertOpen()
    if (!this.#options.autoMigrate) return
    this.#ready ??= runMigrations(this.#pool, this.#t).then(
      () => undefined,
      (error: unknown) => {
        this.#ready = undefined
        throw error
      },
    )
    await this.#ready
  }

  async #connect(what: string): Promise<pg.PoolClient> {
    await this.#ensureReady()
    try {
      return quiet(await this.#pool.connect())
    } catch (error) {
      throw toStorageError(error, what)
    }
  }

  async #write<T>(what: string, run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#connect(what)
    let failure: unknown
    try {
      return await run(client)
    } catch (error) {
      failure = error
      throw toStorageError(error, what)
    } finally {
      client.release(isConnectionError(failure) ? (failure as Error) : undefined)
    }
  }

  // Reads are idempotent, so a dropped connection (server restart, failover, idle reap) is
  // retried on a fresh client with a short backoff.
  async #read<T>(what: string, run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#write(what, run)
      } catch (error) {
        const retry =
          error instanceof StorageError &&
          error.code === 'unavailable' &&
          attempt < this.#options.readRetries
        if (!retry || this.#closed) throw error
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt))
      }
    }
  }
}

/**
 * Run a key-ordered range query so that it walks the primary-key index. Without this, when
 * the planner underestimates a range (fresh tables, the depth filter), it picks a bitmap scan
 * plus sort that reads the whole range for every page: quadratic for long logs.
 */
async function inKeyOrder<R extends pg.QueryResultRow>(
  client: pg.PoolClient,
  sql: string,
  params: unknown[],
): Promise<pg.QueryResult<R>> {
  // The sort penalty inflates plan costs, which would otherwise trigger JIT compilation.
  await client.query('BEGIN READ ONLY; SET LOCAL enable_sort = off; SET LOCAL jit = off')
  try {
    const result = await client.query<R>(sql, params)
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  }
}

function isConnectionError(error: unknown): boolean {
  const mapped = toStorageError(error, '')
  return mapped instanceof StorageError && mapped.code === 'unavailable'
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function toBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

const quieted = new WeakSet<pg.PoolClient>()

/**
 * A checked-out client whose connection drops between two queries emits `error`, which the pool
 * only listens for while the client is idle: without a listener Node would crash the process
 * (seen when PostgreSQL became unreachable mid-run). The failure still reaches the caller: the
 * next query on the client rejects, and `release(error)` discards it.
 */
function quiet(client: pg.PoolClient): pg.PoolClient {
  if (!quieted.has(client)) {
    quieted.add(client)
    client.on('error', () => undefined)
  }
  return client
}
