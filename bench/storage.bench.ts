/**
 * Local storage adapters (memory, filesystem, SQLite) under the relay's storage workload (see
 * `storage-workload.ts`): 100k envelopes (`--quick`: 3k) appended durably to one document's
 * log, then read back. Baselines are the raw primitive in the same run: `Map.set` for memory,
 * `writeFile` + fsync of one file per envelope into one directory for the filesystem, and one
 * autocommit `INSERT` per envelope (WAL, synchronous=FULL) for SQLite. The "bytes used" baseline
 * of memory is the payload itself.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { open as openFile, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { FsStorageAdapter } from '../packages/storage-fs/src/index.js'
import { MemoryStorageAdapter } from '../packages/storage-memory/src/index.js'
import { SqliteStorageAdapter } from '../packages/storage-sqlite/src/index.js'
import type { Benchmark, BenchRow } from './harness.js'
import { type Baseline, storageRows, timed, traceEnvelopes } from './storage-workload.js'

/** Allocated bytes (4 KiB blocks, directories included) below `dir`. */
function diskUsage(dir: string): number {
  let sum = statSync(dir).blocks * 512
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    sum += entry.isDirectory() ? diskUsage(path) : statSync(path).blocks * 512
  }
  return sum
}

async function rawFs(items: readonly Uint8Array[]): Promise<Baseline> {
  const dir = mkdtempSync(join(tmpdir(), 'valv-bench-rawfs-'))
  try {
    const name = (i: number) => join(dir, String(i).padStart(16, '0'))
    const appendSeconds = await timed(items.length, async (i) => {
      const handle = await openFile(name(i), 'w')
      await handle.writeFile(items[i]!)
      await handle.sync()
      await handle.close()
    })
    const start = performance.now()
    for (const file of readdirSync(dir).sort()) await readFile(join(dir, file))
    return {
      appendSeconds,
      readSeconds: (performance.now() - start) / 1000,
      bytesUsed: diskUsage(dir),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function rawSqlite(items: readonly Uint8Array[]): Baseline {
  const dir = mkdtempSync(join(tmpdir(), 'valv-bench-rawsqlite-'))
  const db = new Database(join(dir, 'raw.db'))
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.exec('CREATE TABLE raw (seq INTEGER PRIMARY KEY, value BLOB NOT NULL)')
    const insert = db.prepare('INSERT INTO raw VALUES (?, ?)')
    let start = performance.now()
    for (const [i, item] of items.entries()) insert.run(i, item)
    const appendSeconds = (performance.now() - start) / 1000
    start = performance.now()
    let n = 0
    for (const row of db.prepare('SELECT value FROM raw ORDER BY seq').iterate()) {
      n += (row as { value: Buffer }).value.byteLength
    }
    const readSeconds = (performance.now() - start) / 1000
    if (n === 0) throw new Error('raw sqlite read nothing')
    db.pragma('wal_checkpoint(TRUNCATE)')
    return { appendSeconds, readSeconds, bytesUsed: diskUsage(dir) }
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function rawMemory(items: readonly Uint8Array[]): Promise<Baseline> {
  const map = new Map<number, Uint8Array>()
  const appendSeconds = await timed(items.length, async (i) => map.set(i, items[i]!.slice()))
  const start = performance.now()
  let n = 0
  for (const value of map.values()) n += value.slice().byteLength
  const readSeconds = (performance.now() - start) / 1000
  return { appendSeconds, readSeconds, bytesUsed: n }
}

const bench: Benchmark = async ({ quick }) => {
  const items = traceEnvelopes(quick ? 3000 : 100_000)
  const total = items.reduce((sum, e) => sum + e.byteLength, 0)
  const rows: BenchRow[] = [
    {
      name: 'envelopes appended (mean size)',
      value: total / items.length,
      unit: 'B',
      baseline: null,
    },
  ]
  rows.push(
    ...(await storageRows(
      'memory',
      async () => {
        const adapter = new MemoryStorageAdapter()
        return { adapter, bytesUsed: async () => total, teardown: () => adapter.close() }
      },
      items,
      await rawMemory(items),
    )),
  )
  rows.push(
    ...(await storageRows(
      'fs',
      async () => {
        const directory = mkdtempSync(join(tmpdir(), 'valv-bench-fs-'))
        const adapter = new FsStorageAdapter({ directory })
        return {
          adapter,
          bytesUsed: async () => diskUsage(directory),
          teardown: async () => {
            await adapter.close()
            rmSync(directory, { recursive: true, force: true })
          },
        }
      },
      items,
      await rawFs(items),
    )),
  )
  rows.push(
    ...(await storageRows(
      'sqlite',
      async () => {
        const dir = mkdtempSync(join(tmpdir(), 'valv-bench-sqlite-'))
        const filename = join(dir, 'valv.db')
        const adapter = new SqliteStorageAdapter({ filename })
        return {
          adapter,
          bytesUsed: async () => {
            // Checkpoint through a second connection so the WAL is folded into the file.
            const db = new Database(filename)
            db.pragma('wal_checkpoint(TRUNCATE)')
            db.close()
            return diskUsage(dir)
          },
          teardown: async () => {
            await adapter.close()
            rmSync(dir, { recursive: true, force: true })
          },
        }
      },
      items,
      rawSqlite(items),
    )),
  )
  return rows
}

export default bench
