import {
  assertValidKey,
  type KeyRange,
  rechunk,
  type StorageAdapter,
  type StorageEntry,
  StorageError,
  type StorageKey,
} from '@valv/storage'
import Database from 'better-sqlite3'
import { toStorageError } from './errors.js'
import { pathOf, SEP, SEP_END, split } from './paths.js'
import { createSchema } from './schema.js'

/** Options of {@link SqliteStorageAdapter}. */
export interface SqliteStorageOptions {
  /** Path of the database file (created if missing). */
  readonly filename: string
  /**
   * `'full'` (default): every resolved write is fsynced, surviving power loss. `'normal'`:
   * in WAL mode a resolved write survives a process crash (`kill -9`) but the last
   * transactions may be lost on power loss; faster. Choose `'normal'` only knowingly.
   */
  readonly synchronous?: 'full' | 'normal'
  /** Blob chunk size in bytes (default 1 MiB). */
  readonly chunkBytes?: number
  /** How long a write waits for another connection's lock, in ms (default 5000). */
  readonly busyTimeoutMs?: number
}

interface Job {
  readonly run: () => unknown
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
}

const PAGE = 256

/**
 * A `StorageAdapter` on one SQLite file via better-sqlite3: WAL journal, `synchronous =
 * FULL` by default, `secure_delete` on, schema created on first use. The embedded default for
 * a single relay.
 *
 * Writes issued in the same tick are committed together in one transaction (group commit),
 * each in its own savepoint: one fsync for many appends, and every promise resolves only after
 * the commit ("resolved = durable"). Blobs are stored in chunks under a fresh id and swapped in
 * by one final transaction, so a crash mid-stream leaves the old blob; orphaned chunks of a
 * dead process are removed at the next open. Deleting a prefix zeroes the freed pages and
 * truncates the WAL, so the erased bytes are gone from the files too.
 *
 * @example
 * ```ts
 * import { DocumentStore } from '@valv/storage'
 * import { SqliteStorageAdapter } from '@valv/storage-sqlite'
 * const store = new DocumentStore(new SqliteStorageAdapter({ filename: 'valv.db' }))
 * ```
 */
export class SqliteStorageAdapter implements StorageAdapter {
  readonly #options: SqliteStorageOptions
  #db: Database.Database | undefined
  #queue: Job[] = []
  #scheduled = false
  #closed = false
  readonly #statements = new Map<string, Database.Statement>()

  /** An adapter on `options.filename`; the file is opened on the first call. */
  constructor(options: SqliteStorageOptions) {
    this.#options = options
  }

  async get(key: StorageKey): Promise<Uint8Array | undefined> {
    const db = this.#begin(key)
    const [parent, name] = split(key)
    const row = this.#try('get', () =>
      this.#sql<[string, string], { value: Buffer }>(
        db,
        'SELECT value FROM valv_values WHERE parent = ? AND name = ?',
      ).get(parent, name),
    )
    return row ? toBytes(row.value) : undefined
  }

  async put(key: StorageKey, value: Uint8Array): Promise<void> {
    const db = this.#begin(key)
    const [parent, name] = split(key)
    const copy = Buffer.from(value) // the caller may reuse its buffer before the flush
    await this.#write(() =>
      this.#sql(
        db,
        `INSERT INTO valv_values (parent, name, value) VALUES (?, ?, ?)
           ON CONFLICT (parent, name) DO UPDATE SET value = excluded.value`,
      ).run(parent, name, copy),
    )
  }

  async delete(key: StorageKey): Promise<void> {
    const db = this.#begin(key)
    const [parent, name] = split(key)
    await this.#write(() => {
      this.#sql(db, 'DELETE FROM valv_values WHERE parent = ? AND name = ?').run(parent, name)
      const blob = this.#sql<[string, string], { blob: number }>(
        db,
        'DELETE FROM valv_blobs WHERE parent = ? AND name = ? RETURNING blob',
      ).get(parent, name)
      if (blob) this.#sql(db, 'DELETE FROM valv_chunks WHERE blob = ?').run(blob.blob)
    })
  }

  async *list(range: KeyRange): AsyncIterable<StorageEntry> {
    const db = this.#begin(range.prefix, true)
    const parent = pathOf(range.prefix)
    let remaining = range.limit ?? Number.POSITIVE_INFINITY
    let after: string | undefined
    // Pages, not one open cursor: better-sqlite3 cannot write while a statement iterates, and
    // other calls run between our yields.
    while (remaining > 0) {
      const n = Math.min(PAGE, remaining)
      const rows = this.#try('list', () =>
        this.#sql<unknown[], { name: string; value: Buffer }>(
          db,
          `SELECT name, value FROM valv_values WHERE parent = ?
             AND name ${after === undefined ? '>=' : '>'} ? AND name < ?
             ORDER BY name LIMIT ?`,
        ).all(parent, after ?? range.start ?? '', range.end ?? '\u00ff', n),
      )
      for (const row of rows) yield { key: [...range.prefix, row.name], value: toBytes(row.value) }
      remaining -= rows.length
      if (rows.length < n) return
      after = rows.at(-1)!.name
      this.#begin(range.prefix, true)
    }
  }

  async *listChildren(prefix: StorageKey): AsyncIterable<string> {
    const db = this.#begin(prefix, true)
    const children = this.#try('listChildren', () => this.#children(db, prefix))
    yield* children
  }

  async deletePrefix(prefix: StorageKey): Promise<void> {
    const db = this.#begin(prefix, true)
    const where = subtree(prefix)
    await this.#write(() => {
      this.#sql(db, `DELETE FROM valv_values WHERE ${where.sql}`).run(...where.args)
      this.#sql(
        db,
        `DELETE FROM valv_chunks WHERE blob IN (SELECT blob FROM valv_blobs WHERE ${where.sql})`,
      ).run(...where.args)
      this.#sql(db, `DELETE FROM valv_blobs WHERE ${where.sql}`).run(...where.args)
    })
    // Erasure: move the zeroed pages into the main file and empty the WAL, which still holds
    // the old page images otherwise. Fails softly if another connection is reading.
    this.#try('deletePrefix', () => db.pragma('wal_checkpoint(TRUNCATE)'))
  }

  async putStream(key: StorageKey, source: AsyncIterable<Uint8Array>): Promise<number> {
    const db = this.#begin(key)
    const [parent, name] = split(key)
    const blob = await this.#write(
      () =>
        this.#sql(db, 'INSERT INTO valv_pending (pid) VALUES (?)').run(process.pid)
          .lastInsertRowid as number,
    )
    let total = 0
    try {
      let idx = 0
      for await (const chunk of rechunk(source, this.#options.chunkBytes ?? 1 << 20)) {
        const data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        const at = idx++
        await this.#write(() =>
          this.#sql(db, 'INSERT INTO valv_chunks (blob, idx, data) VALUES (?, ?, ?)').run(
            blob,
            at,
            data,
          ),
        )
        total += chunk.byteLength
        this.#begin(key)
      }
      await this.#write(() => {
        const old = this.#sql<[string, string], { blob: number }>(
          db,
          'SELECT blob FROM valv_blobs WHERE parent = ? AND name = ?',
        ).get(parent, name)
        if (old) this.#sql(db, 'DELETE FROM valv_chunks WHERE blob = ?').run(old.blob)
        this.#sql(
          db,
          `INSERT INTO valv_blobs (parent, name, blob, size) VALUES (?, ?, ?, ?)
           ON CONFLICT (parent, name) DO UPDATE SET blob = excluded.blob, size = excluded.size`,
        ).run(parent, name, blob, total)
        this.#sql(db, 'DELETE FROM valv_pending WHERE blob = ?').run(blob)
      })
      return total
    } catch (error) {
      if (!this.#closed) {
        await this.#write(() => {
          this.#sql(db, 'DELETE FROM valv_chunks WHERE blob = ?').run(blob)
          this.#sql(db, 'DELETE FROM valv_pending WHERE blob = ?').run(blob)
        }).catch(() => undefined)
      }
      throw toStorageError(error, 'putStream')
    }
  }

  async getStream(key: StorageKey): Promise<AsyncIterable<Uint8Array> | undefined> {
    const db = this.#begin(key)
    const [parent, name] = split(key)
    const row = this.#try('getStream', () =>
      this.#sql<[string, string], { blob: number }>(
        db,
        'SELECT blob FROM valv_blobs WHERE parent = ? AND name = ?',
      ).get(parent, name),
    )
    if (!row) return undefined
    const read = (idx: number) =>
      this.#try('getStream', () => {
        this.#begin(key)
        return this.#sql<[number, number], { data: Buffer }>(
          db,
          'SELECT data FROM valv_chunks WHERE blob = ? AND idx = ?',
        ).get(row.blob, idx)
      })
    const current = () =>
      this.#sql<[string, string], { blob: number }>(
        db,
        'SELECT blob FROM valv_blobs WHERE parent = ? AND name = ?',
      ).get(parent, name)?.blob
    return (async function* () {
      for (let idx = 0; ; idx++) {
        const chunk = read(idx)
        if (!chunk) {
          // The end, unless the blob was replaced or deleted under us (its chunks are gone).
          if (current() !== row.blob) {
            throw new StorageError('unavailable', 'blob was replaced while reading; retry', {
              retryable: true,
            })
          }
          return
        }
        yield toBytes(chunk.data)
      }
    })()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const pending = this.#queue
    this.#queue = []
    for (const job of pending)
      job.reject(new StorageError('closed', 'the storage adapter is closed'))
    this.#statements.clear()
    this.#db?.close()
    this.#db = undefined
  }

  /** Check state and key; open the database on first use. */
  #begin(key: StorageKey, allowEmpty = false): Database.Database {
    if (this.#closed) throw new StorageError('closed', 'the storage adapter is closed')
    assertValidKey(key, allowEmpty)
    if (!this.#db) this.#db = this.#try('open', () => this.#open())
    return this.#db
  }

  #open(): Database.Database {
    let db: Database.Database
    try {
      db = new Database(this.#options.filename, { timeout: this.#options.busyTimeoutMs ?? 5000 })
    } catch (error) {
      // better-sqlite3 throws a plain TypeError when the directory does not exist.
      const mapped = toStorageError(error, 'open')
      if (mapped instanceof StorageError) throw mapped
      throw new StorageError('missing-backend', 'cannot open the database file', { cause: error })
    }
    try {
      db.pragma('journal_mode = WAL')
      db.pragma(`synchronous = ${this.#options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`)
      db.pragma('secure_delete = ON')
      createSchema(db)
      this.#recover(db)
      return db
    } catch (error) {
      this.#statements.clear()
      db.close()
      throw error
    }
  }

  /** Remove chunks of blob writes whose process died mid-stream. */
  #recover(db: Database.Database): void {
    const pending = db
      .prepare<[], { blob: number; pid: number }>('SELECT blob, pid FROM valv_pending')
      .all()
    const dead = pending.filter((p) => !alive(p.pid))
    if (dead.length === 0) return
    db.transaction(() => {
      for (const p of dead) {
        this.#sql(db, 'DELETE FROM valv_chunks WHERE blob = ?').run(p.blob)
        this.#sql(db, 'DELETE FROM valv_pending WHERE blob = ?').run(p.blob)
      }
    })()
  }

  /** Queue a write; writes queued in the same tick share one transaction and one fsync. */
  #write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run, resolve: resolve as (v: unknown) => void, reject })
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(() => this.#flush())
      }
    })
  }

  #flush(): void {
    this.#scheduled = false
    const jobs = this.#queue
    this.#queue = []
    const db = this.#db
    if (jobs.length === 0) return
    if (!db || this.#closed) {
      for (const job of jobs)
        job.reject(new StorageError('closed', 'the storage adapter is closed'))
      return
    }
    const results: { ok: boolean; value: unknown }[] = []
    try {
      db.transaction(() => {
        for (const job of jobs) {
          try {
            // A nested transaction is a savepoint: a failing job rolls back alone.
            results.push({ ok: true, value: db.transaction(job.run)() })
          } catch (error) {
            results.push({ ok: false, value: error })
          }
        }
      }).immediate()
    } catch (error) {
      const failure = toStorageError(error, 'write')
      for (const job of jobs) job.reject(failure)
      return
    }
    jobs.forEach((job, i) => {
      const r = results[i]!
      if (r.ok) job.resolve(r.value)
      else job.reject(toStorageError(r.value, 'write'))
    })
  }

  /** The distinct next segments below `prefix`: direct names, then a skip scan for subtrees. */
  #children(db: Database.Database, prefix: StorageKey): string[] {
    const parent = pathOf(prefix)
    const out = new Set<string>()
    for (const table of ['valv_values', 'valv_blobs']) {
      for (const row of this.#sql<[string], { name: string }>(
        db,
        `SELECT name FROM ${table} WHERE parent = ?`,
      ).all(parent)) {
        out.add(row.name)
      }
      // Deeper keys: parent = base + child [+ SEP + …]. Jump from child to child via the index.
      const base = prefix.length === 0 ? '' : parent + SEP
      const end = prefix.length === 0 ? '\u00ff' : parent + SEP_END
      const next = this.#sql<[string, string], { parent: string }>(
        db,
        `SELECT parent FROM ${table} WHERE parent >= ? AND parent < ? ORDER BY parent LIMIT 1`,
      )
      let from = prefix.length === 0 ? SEP : base
      for (;;) {
        const row = next.get(from, end)
        if (!row) break
        const child = row.parent.slice(base.length).split(SEP)[0]!
        out.add(child)
        from = base + child + SEP_END
      }
    }
    return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  }

  /** A prepared statement, compiled once per connection. */
  #sql<P extends unknown[] = unknown[], R = unknown>(
    db: Database.Database,
    sql: string,
  ): Database.Statement<P, R> {
    let statement = this.#statements.get(sql)
    if (!statement) {
      statement = db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement as Database.Statement<P, R>
  }

  #try<T>(what: string, run: () => T): T {
    try {
      return run()
    } catch (error) {
      throw toStorageError(error, what)
    }
  }
}

/** SQL matching every key at or below `prefix` (the prefix key itself included). */
function subtree(prefix: StorageKey): { sql: string; args: string[] } {
  if (prefix.length === 0) return { sql: '1 = 1', args: [] }
  const [parent, name] = split(prefix)
  const path = pathOf(prefix)
  return {
    sql: '(parent = ? AND name = ?) OR parent = ? OR (parent >= ? AND parent < ?)',
    args: [parent, name, path, path + SEP, path + SEP_END],
  }
}

/** A Uint8Array view of a Buffer from SQLite (fresh memory, not pooled). */
const toBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

function alive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM'
  }
}
