import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runStorageAdapterTests } from '@valv/storage/conformance'
import { FsStorageAdapter } from '../src/index.js'
import { scanDirectory } from './helpers.js'

runStorageAdapterTests('FsStorageAdapter', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'valv-fs-'))
  const adapter = new FsStorageAdapter({ directory })
  return {
    adapter,
    reopen: async () => new FsStorageAdapter({ directory }),
    scanRaw: async () => scanDirectory(directory),
    teardown: async () => {
      await adapter.close()
      rmSync(directory, { recursive: true, force: true })
    },
  }
})
