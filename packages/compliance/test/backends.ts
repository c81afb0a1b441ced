import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StorageAdapter } from '@valv/storage'
import { FsStorageAdapter } from '@valv/storage-fs'
import { MemoryBackend, MemoryStorageAdapter } from '@valv/storage-memory'
import { PostgresStorageAdapter } from '@valv/storage-postgres'
import { S3StorageAdapter } from '@valv/storage-s3'
import { SqliteStorageAdapter } from '@valv/storage-sqlite'
import pg from 'pg'
import { scanDirectory } from '../../storage-fs/test/helpers.js'
import {
  dropSchema,
  freshSchema,
  testConnectionString,
} from '../../storage-postgres/test/helpers.js'
import { startS3, type TestS3 } from '../../storage-s3/test/s3rver.js'

/** A real backend and a look at every byte it physically holds. */
export interface Backend {
  readonly adapter: StorageAdapter
  /** Every stored byte string and name, below the storage API. */
  scan(): Promise<Uint8Array[]>
  teardown(): Promise<void>
}

const utf8 = (s: string) => new TextEncoder().encode(s)

export async function memoryBackend(): Promise<Backend> {
  const backend = new MemoryBackend()
  const adapter = new MemoryStorageAdapter(backend)
  return {
    adapter,
    scan: async () => {
      const items: Uint8Array[] = []
      const walk = (node: MemoryBackend['root'], path: string) => {
        items.push(utf8(path))
        if (node.value) items.push(node.value)
        for (const part of node.blob ?? []) items.push(part)
        for (const [name, child] of node.children) walk(child, `${path}/${name}`)
      }
      walk(backend.root, '')
      return items
    },
    teardown: () => adapter.close(),
  }
}

export async function fsBackend(): Promise<Backend> {
  const directory = mkdtempSync(join(tmpdir(), 'valv-erase-fs-'))
  const adapter = new FsStorageAdapter({ directory })
  return {
    adapter,
    scan: async () => scanDirectory(directory).items,
    teardown: async () => {
      await adapter.close()
      rmSync(directory, { recursive: true, force: true })
    },
  }
}

/** SQLite: the database file, its WAL and shared memory as they are on disk, freed pages too. */
export async function sqliteBackend(): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'valv-erase-sqlite-'))
  const filename = join(dir, 'valv.db')
  const adapter = new SqliteStorageAdapter({ filename, chunkBytes: 64 * 1024 })
  return {
    adapter,
    scan: async () =>
      ['', '-wal', '-shm']
        .map((s) => filename + s)
        .filter(existsSync)
        .map((f) => new Uint8Array(readFileSync(f))),
    teardown: async () => {
      await adapter.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * PostgreSQL: after `VACUUM FULL` of the adapter's tables, the relation files themselves
 * (heap, TOAST, indexes) read through `pg_read_binary_file`, plus every row.
 */
export async function postgresBackend(): Promise<Backend> {
  const url = await testConnectionString()
  const schema = freshSchema()
  const adapter = new PostgresStorageAdapter({ connectionString: url, schema, chunkSize: 1 << 16 })
  return {
    adapter,
    scan: async () => {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        const tables = await client.query<{ t: string }>(
          `SELECT quote_ident(relname) AS t FROM pg_class
           WHERE relnamespace = $1::regnamespace AND relkind = 'r'`,
          [schema],
        )
        for (const { t } of tables.rows) await client.query(`VACUUM FULL "${schema}".${t}`)
        const files = await client.query<{ bytes: Buffer }>(
          `WITH ours AS (SELECT oid, reltoastrelid FROM pg_class
                         WHERE relnamespace = $1::regnamespace)
           SELECT pg_read_binary_file(pg_relation_filepath(c.oid)) AS bytes FROM pg_class c
           WHERE c.relfilenode <> 0 AND (c.oid IN (SELECT oid FROM ours)
              OR c.oid IN (SELECT reltoastrelid FROM ours)
              OR c.oid IN (SELECT indexrelid FROM pg_index
                           WHERE indrelid IN (SELECT reltoastrelid FROM ours)))`,
          [schema],
        )
        const rows = await client.query<{ k: string; v: Buffer | null }>(
          `SELECT array_to_string(key, '/') AS k, value AS v FROM "${schema}".valv_values
           UNION ALL SELECT array_to_string(key, '/'), NULL FROM "${schema}".valv_blobs
           UNION ALL SELECT '', data FROM "${schema}".valv_chunks`,
        )
        return [
          ...files.rows.map((r) => new Uint8Array(r.bytes)),
          ...rows.rows.flatMap((r) => [utf8(r.k), ...(r.v ? [new Uint8Array(r.v)] : [])]),
        ]
      } finally {
        await client.end()
      }
    },
    teardown: async () => {
      await adapter.close()
      await dropSchema(url, schema)
    },
  }
}

let s3: Promise<TestS3> | undefined

/** S3 (s3rver): every file of the bucket's directory on the server's disk, and its path. */
export async function s3Backend(): Promise<Backend> {
  s3 ??= startS3()
  const server = await s3
  const options = await server.bucket()
  const adapter = new S3StorageAdapter(options)
  return {
    adapter,
    scan: async () => server.rawFiles(options.bucket).flatMap((f) => [f.bytes, utf8(f.path)]),
    teardown: () => adapter.close(),
  }
}

/** Stop the shared s3rver, if started. */
export async function stopS3(): Promise<void> {
  if (s3) await (await s3).stop()
  s3 = undefined
}

/** Whether any scanned item contains `needle`. */
export function holds(items: readonly Uint8Array[], needle: Uint8Array): boolean {
  const n = Buffer.from(needle)
  return items.some((item) =>
    Buffer.from(item.buffer, item.byteOffset, item.byteLength).includes(n),
  )
}
