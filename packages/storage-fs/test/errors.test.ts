import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StorageError } from '@valv/storage'
import { onTinyTmpfs } from '@valv/test-utils/storage-crash'
import { describe, expect, it } from 'vitest'
import { toStorageError } from '../src/errors.js'
import { FsStorageAdapter } from '../src/index.js'

const sysError = (code: string) => Object.assign(new Error(code), { code })
async function codeOf(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run()
  } catch (error) {
    expect(error).toBeInstanceOf(StorageError)
    return (error as StorageError).code
  }
  return undefined
}

describe('FsStorageAdapter errors', () => {
  it('maps system errors to stable codes and passes other errors through', () => {
    const cases: [string, string][] = [
      ['ENOSPC', 'full'],
      ['EDQUOT', 'full'],
      ['EACCES', 'missing-backend'],
      ['EROFS', 'missing-backend'],
      ['EIO', 'unavailable'],
      ['EMFILE', 'unavailable'],
    ]
    for (const [code, expected] of cases) {
      const mapped = toStorageError(sysError(code), 'put') as StorageError
      expect(mapped).toBeInstanceOf(StorageError)
      expect(mapped.code).toBe(expected)
      expect(mapped.retryable).toBe(expected === 'unavailable')
    }
    const foreign = new Error('source broke')
    expect(toStorageError(foreign, 'put')).toBe(foreign)
  })

  it("reports a missing root as 'missing-backend' when it may not create it", async () => {
    const parent = mkdtempSync(join(tmpdir(), 'valv-fs-err-'))
    try {
      const missing = new FsStorageAdapter({ directory: join(parent, 'nope'), create: false })
      expect(await codeOf(() => missing.get(['a']))).toBe('missing-backend')
      expect(readdirSync(parent)).toEqual([])
      writeFileSync(join(parent, 'file'), 'x')
      const onFile = new FsStorageAdapter({ directory: join(parent, 'file', 'sub') })
      expect(await codeOf(() => onFile.put(['a'], new Uint8Array(1)))).toBe('missing-backend')
    } finally {
      rmSync(parent, { recursive: true, force: true })
    }
  })

  it("reports a full disk as 'full' and leaves no partial file (real tmpfs when mountable)", async () => {
    const ran = await onTinyTmpfs(async (dir) => {
      const adapter = new FsStorageAdapter({ directory: dir })
      await adapter.put(['small'], new Uint8Array(10))
      expect(await codeOf(() => adapter.put(['big'], new Uint8Array(4 << 20)))).toBe('full')
      const stream = async function* () {
        for (let i = 0; i < 64; i++) yield new Uint8Array(65536)
      }
      expect(await codeOf(() => adapter.putStream(['blob'], stream()))).toBe('full')
      expect(await adapter.get(['big'])).toBeUndefined()
      expect(await adapter.getStream(['blob'])).toBeUndefined()
      expect(readdirSync(dir).sort()).toEqual(['small@v'])
      expect(await adapter.get(['small'])).toEqual(new Uint8Array(10))
    })
    // As root (CI containers here) the real disk-full path must have run; without mount
    // rights only the mapping test above covers ENOSPC.
    if (process.getuid?.() === 0) expect(ran).toBe(true)
  })
})
