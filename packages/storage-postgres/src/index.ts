/**
 * PostgreSQL storage for Valv: a {@link PostgresStorageAdapter} implementing the
 * `StorageAdapter` seam of `@valv/storage` on a `pg.Pool`, with its tables created on first use
 * or by {@link migratePostgres} as a deployment step.
 *
 * @packageDocumentation
 */
export { PostgresStorageAdapter } from './adapter.js'
export { SCHEMA_VERSION } from './migrate.js'
export { migratePostgres } from './migrate-cli.js'
export type { PostgresStorageOptions } from './options.js'
