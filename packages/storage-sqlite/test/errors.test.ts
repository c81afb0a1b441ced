import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StorageError } from '@valv/storage'
import { onTinyTmpfs } from '@valv/test-utils/storage-crash'
import { describe, expect, it } from 'vitest'
import { toStorageError } from '../src/errors.js'
import { SqliteStorageAdapter } from '../src/index.js'

async function codeOf(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run()
  } catch (error) {
    expect(error).toBeInstanceOf(StorageError)
    return (error as StorageError).code
  }
  return undefined
}

describe('SqliteStorageAdapter errors', () => {
  it('maps SQLite result codes to stable codes', () => {
    const cases: [string, string][] = [
      ['SQLITE_FULL', 'full'],
      ['SQLITE_CANTOPEN', 'missing-backend'],
      ['SQLITE_READONLY', 'missing-backend'],
      ['SQLITE_CORRUPT', 'corrupt'],
      ['SQLITE_NOTADB', 'corrupt'],
      ['SQLITE_BUSY', 'unavailable'],
      ['SQLITE_IOERR_FSYNC', 'unavailable'],
    ]
    for (const [code, expected] of cases) {
      const mapped = toStorageError(Object.assign(new Error(code), { code }), 'put')
      expect((mapped as StorageError).code).toBe(expected)
    }
    const foreign = new Error('source broke')
    expect(toStorageError(foreign, 'put')).toBe(foreign)
  })

  it("reports an unopenable file as 'missing-backend' and garbage as 'corrupt'", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'valv-sqlite-err-'))
    try {
      const missing = new SqliteStorageAdapter({ filename: join(dir, 'no', 'such', 'x.db') })
      expect(await codeOf(() => missing.get(['a']))).toBe('missing-backend')
      const garbage = join(dir, 'garbage.db')
      writeFileSync(garbage, Buffer.alloc(8192, 7))
      const corrupt = new SqliteStorageAdapter({ filename: garbage })
      expect(await codeOf(() => corrupt.get(['a']))).toBe('corrupt')
      await corrupt.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("reports a full disk as 'full' and keeps earlier data (real tmpfs when mountable)", async () => {
    const ran = await onTinyTmpfs(async (dir) => {
      const adapter = new SqliteStorageAdapter({ filename: join(dir, 'valv.db') })
      await adapter.put(['small'], new Uint8Array(10))
      expect(await codeOf(() => adapter.put(['big'], new Uint8Array(4 << 20)))).toBe('full')
      const stream = async function* () {
        for (let i = 0; i < 64; i++) yield new Uint8Array(65536)
      }
      expect(await codeOf(() => adapter.putStream(['blob'], stream()))).toBe('full')
      expect(await adapter.get(['big'])).toBeUndefined()
      expect(await adapter.getStream(['blob'])).toBeUndefined()
      expect(await adapter.get(['small'])).toEqual(new Uint8Array(10))
      await adapter.close()
    })
    // As root the real disk-full path must have run; otherwise the mapping test covers it.
    if (process.getuid?.() === 0) expect(ran).toBe(true)
  })
})
