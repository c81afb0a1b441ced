import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runStorageAdapterTests } from '@valv/storage/conformance'
import { SqliteStorageAdapter } from '../src/index.js'

runStorageAdapterTests('SqliteStorageAdapter', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'valv-sqlite-'))
  const filename = join(dir, 'valv.db')
  const adapter = new SqliteStorageAdapter({ filename, chunkBytes: 256 * 1024 })
  return {
    adapter,
    reopen: async () => new SqliteStorageAdapter({ filename, chunkBytes: 256 * 1024 }),
    // The raw files themselves: the database, its WAL and shared memory, freed pages included.
    scanRaw: async () => ({
      items: ['', '-wal', '-shm']
        .map((suffix) => filename + suffix)
        .filter(existsSync)
        .map((f) => new Uint8Array(readFileSync(f))),
      emptyContainers: [],
    }),
    teardown: async () => {
      await adapter.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})
