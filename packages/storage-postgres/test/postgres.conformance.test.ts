import { runStorageAdapterTests } from '@valv/storage/conformance'
import pg from 'pg'
import { PostgresStorageAdapter } from '../src/index.js'
import { dropSchema, freshSchema, testConnectionString } from './helpers.js'

/**
 * Every row of the adapter's tables, as the server returns them: keys as text and every
 * bytea cell as raw bytes. (Dead tuples in the heap files are not covered: PostgreSQL frees
 * them at VACUUM; see docs/storage.md, "Erasure".)
 */
async function scanRows(url: string, schema: string) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const q = (sql: string) => client.query(sql).then((r) => r.rows as Record<string, unknown>[])
    const rows = [
      ...(await q(
        `SELECT array_to_string(key, '/') AS k, value AS v FROM "${schema}".valv_values`,
      )),
      ...(await q(`SELECT array_to_string(key, '/') AS k FROM "${schema}".valv_blobs`)),
      ...(await q(`SELECT data AS v FROM "${schema}".valv_chunks`)),
      ...(await q(`SELECT name AS k, value AS m FROM "${schema}".valv_meta`)),
    ]
    const items = rows.flatMap((row) =>
      Object.values(row).map((cell) =>
        cell instanceof Uint8Array ? cell : new TextEncoder().encode(String(cell)),
      ),
    )
    return { items, emptyContainers: [] as string[] }
  } finally {
    await client.end()
  }
}

runStorageAdapterTests(
  'PostgresStorageAdapter',
  async () => {
    const url = await testConnectionString()
    const schema = freshSchema()
    const open = () =>
      new PostgresStorageAdapter({ connectionString: url, schema, chunkSize: 1 << 20 })
    const adapter = open()
    return {
      adapter,
      reopen: async () => open(),
      scanRaw: async () => {
        await adapter.migrate().catch(() => undefined)
        return scanRows(url, schema)
      },
      teardown: async () => {
        await adapter.close()
        await dropSchema(url, schema)
      },
    }
  },
  // A few 1 MiB chunks in flight plus pg's buffers and hex decoding.
  { memoryLimitBytes: 32 << 20 },
)
