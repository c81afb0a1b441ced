import type Database from 'better-sqlite3'

/** Tables, created on first use. Values and blobs share the `(parent, name)` key scheme. */
export function createSchema(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS valv_values (
      parent TEXT NOT NULL, name TEXT NOT NULL, value BLOB NOT NULL,
      PRIMARY KEY (parent, name));
    CREATE TABLE IF NOT EXISTS valv_blobs (
      parent TEXT NOT NULL, name TEXT NOT NULL, blob INTEGER NOT NULL, size INTEGER NOT NULL,
      PRIMARY KEY (parent, name));
    CREATE TABLE IF NOT EXISTS valv_chunks (
      blob INTEGER NOT NULL, idx INTEGER NOT NULL, data BLOB NOT NULL,
      PRIMARY KEY (blob, idx));
    CREATE TABLE IF NOT EXISTS valv_pending (
      blob INTEGER PRIMARY KEY AUTOINCREMENT, pid INTEGER NOT NULL);
  `)
}
