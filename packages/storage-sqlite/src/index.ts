/**
 * SQLite Valv storage (Node): {@link SqliteStorageAdapter} implements the `StorageAdapter` seam
 * of `@valv/storage` on one database file via better-sqlite3 (WAL, fsynced commits).
 *
 * @packageDocumentation
 */
export { SqliteStorageAdapter, type SqliteStorageOptions } from './adapter.js'
