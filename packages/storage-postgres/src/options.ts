import type { Pool, PoolConfig } from 'pg'

/**
 * How {@link PostgresStorageAdapter} connects and where it keeps its tables.
 *
 * @example
 * ```ts
 * const options: PostgresStorageOptions = {
 *   connectionString: 'postgres://valv@db.internal/valv',
 *   schema: 'valv',
 * }
 * ```
 */
export interface PostgresStorageOptions {
  /** Connection string, e.g. `postgres://user@host:5432/db`. Ignored when `pool` is given. */
  readonly connectionString?: string
  /** Extra `pg.Pool` settings (max connections, TLS, timeouts). Ignored when `pool` is given. */
  readonly poolConfig?: PoolConfig
  /**
   * Use this pool instead of creating one. The adapter does not end it on `close()`, and the
   * owner must attach its own `'error'` listener (idle clients report dropped connections there).
   */
  readonly pool?: Pool
  /** Schema holding the tables; created if missing. Default `public`. */
  readonly schema?: string
  /** Prefix of every table name, so several stores can share a schema. Default `valv_`. */
  readonly tablePrefix?: string
  /**
   * Create or upgrade the tables on first use (default `true`). With `false`, run
   * {@link migratePostgres} as a deployment step; a missing table then raises `missing-backend`.
   */
  readonly autoMigrate?: boolean
  /** Bytes per stored blob chunk row (default 1 MiB, between 64 KiB and 64 MiB). */
  readonly chunkSize?: number
  /** How often a read is repeated after a lost connection before giving up (default 2). */
  readonly readRetries?: number
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  readonly schema: string
  readonly tablePrefix: string
  readonly autoMigrate: boolean
  readonly chunkSize: number
  readonly readRetries: number
}

// Identifiers are interpolated into SQL (they cannot be bound as parameters), so only a
// conservative lower-case form is accepted and it is always double-quoted.
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,39}$/
const PREFIX = /^[a-z0-9_]{0,20}$/

/** Apply defaults; throws `TypeError` on a schema/prefix that is not a safe SQL identifier. */
export function resolveOptions(options: PostgresStorageOptions): ResolvedOptions {
  const schema = options.schema ?? 'public'
  const tablePrefix = options.tablePrefix ?? 'valv_'
  const chunkSize = options.chunkSize ?? 1 << 20
  const readRetries = options.readRetries ?? 2
  if (!IDENTIFIER.test(schema)) throw new TypeError(`invalid schema name ${JSON.stringify(schema)}`)
  if (!PREFIX.test(tablePrefix))
    throw new TypeError(`invalid table prefix ${JSON.stringify(tablePrefix)}`)
  if (!Number.isInteger(chunkSize) || chunkSize < 1 << 16 || chunkSize > 1 << 26) {
    throw new TypeError('chunkSize must be an integer between 64 KiB and 64 MiB')
  }
  if (!Number.isInteger(readRetries) || readRetries < 0)
    throw new TypeError('readRetries must be >= 0')
  return { schema, tablePrefix, autoMigrate: options.autoMigrate ?? true, chunkSize, readRetries }
}
