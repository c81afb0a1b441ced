import type { Pool, PoolClient } from 'pg'
import { toStorageError } from './errors.js'
import type { Tables } from './tables.js'

/** The schema version this code writes and expects. */
export const SCHEMA_VERSION = 1

// `COLLATE "C"` makes text comparison byte order, so `text[]` keys sort segment by segment in
// the order the StorageAdapter contract defines, and btree range scans serve prefixes.
// Ciphertext does not compress: STORAGE EXTERNAL skips the futile pglz attempt on TOASTed rows.
function ddl(t: Tables): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS ${t.schema}`,
    `CREATE TABLE IF NOT EXISTS ${t.meta} (name text PRIMARY KEY, value text NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${t.values} (key text[] COLLATE "C" PRIMARY KEY, value bytea NOT NULL)`,
    `ALTER TABLE ${t.values} ALTER COLUMN value SET STORAGE EXTERNAL`,
    `CREATE SEQUENCE IF NOT EXISTS ${t.blobIds}`,
    `CREATE TABLE IF NOT EXISTS ${t.blobs} (key text[] COLLATE "C" PRIMARY KEY, blob_id bigint NOT NULL, size bigint NOT NULL, chunks integer NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${t.chunks} (blob_id bigint NOT NULL, seq integer NOT NULL, data bytea NOT NULL, PRIMARY KEY (blob_id, seq))`,
    `ALTER TABLE ${t.chunks} ALTER COLUMN data SET STORAGE EXTERNAL`,
    `INSERT INTO ${t.meta} (name, value) VALUES ('schema_version', '${SCHEMA_VERSION}') ON CONFLICT (name) DO NOTHING`,
  ]
}

async function installedVersion(client: PoolClient, t: Tables): Promise<number> {
  const exists = await client.query<{ r: string | null }>('SELECT to_regclass($1) AS r', [t.meta])
  if (exists.rows[0]?.r == null) return 0
  const row = await client.query<{ value: string }>(
    `SELECT value FROM ${t.meta} WHERE name = 'schema_version'`,
  )
  return Number(row.rows[0]?.value ?? 0)
}

/**
 * Create the schema and tables if they are missing (idempotent, safe to run concurrently:
 * an advisory lock serialises migrators). Returns the installed schema version.
 */
export async function runMigrations(pool: Pool, t: Tables): Promise<number> {
  let client: PoolClient | undefined
  try {
    client = await pool.connect()
    // Fast path without DDL locks or CREATE privileges once the store exists.
    if ((await installedVersion(client, t)) >= SCHEMA_VERSION) return SCHEMA_VERSION
    await client.query('BEGIN')
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `valv-migrate:${t.scope}`,
      ])
      if ((await installedVersion(client, t)) < SCHEMA_VERSION) {
        for (const statement of ddl(t)) await client.query(statement)
      }
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    }
    return SCHEMA_VERSION
  } catch (error) {
    throw toStorageError(error, 'migrate')
  } finally {
    client?.release()
  }
}
