import { PostgresStorageAdapter } from './adapter.js'
import type { PostgresStorageOptions } from './options.js'

/**
 * Create or upgrade the adapter's tables and disconnect: the explicit deployment step for
 * setups that run with `autoMigrate: false` (e.g. the application role lacks CREATE rights).
 * Idempotent; resolves with the installed schema version.
 *
 * @example
 * ```ts
 * const connectionString = process.env.DATABASE_URL ?? 'postgres://127.0.0.1/valv'
 * await migratePostgres({ connectionString, schema: 'valv' })
 * ```
 */
export async function migratePostgres(options: PostgresStorageOptions): Promise<number> {
  const adapter = new PostgresStorageAdapter(options)
  try {
    return await adapter.migrate()
  } finally {
    await adapter.close()
  }
}
