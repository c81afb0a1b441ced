import { StorageError } from '@valv/storage'
import { checkAgainstModel } from '@valv/storage/conformance'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { S3StorageAdapter } from '../src/index.js'
import { all, digest, pattern, peakMemoryGrowth } from './helpers.js'
import { startS3, type TestS3 } from './s3rver.js'

const bytes = (...values: number[]) => new Uint8Array(values)

describe('S3StorageAdapter against a real S3 API server (s3rver)', () => {
  let s3: TestS3
  const adapters: S3StorageAdapter[] = []
  const open = async (extra: { prefix?: string; partSize?: number } = {}) => {
    const options = await s3.bucket()
    const adapter = new S3StorageAdapter({ ...options, ...extra })
    adapters.push(adapter)
    return { adapter, bucket: options.bucket }
  }

  beforeAll(async () => {
    s3 = await startS3()
  })
  afterAll(async () => {
    for (const adapter of adapters) await adapter.close()
    await s3.stop()
  })

  it('orders values and children segment by segment around "-", "." and folders', async () => {
    const { adapter } = await open()
    for (const [i, key] of [
      ['a'],
      ['a-b'],
      ['a.b'],
      ['a', 'x'],
      ['a', 'x', 'deep'],
      ['b'],
      ['a0'],
    ].entries()) {
      await adapter.put(key, bytes(i))
    }
    await adapter.putStream(['a', 'blob'], pattern(10))
    await adapter.putStream(['c'], pattern(10))
    expect(await all(adapter.listChildren([]))).toEqual(['a', 'a-b', 'a.b', 'a0', 'b', 'c'])
    expect(await all(adapter.listChildren(['a']))).toEqual(['blob', 'x'])
    const listed = await all(adapter.list({ prefix: [] }))
    expect(listed.map((e) => e.key.join('/'))).toEqual(['a', 'a-b', 'a.b', 'a0', 'b'])
    expect(listed[1]?.value).toEqual(bytes(1))
    expect(await adapter.get(['c'])).toBeUndefined()
    expect(await adapter.getStream(['b'])).toBeUndefined()
  })

  it('pages listings beyond 1000 objects and honours start, end and limit', async () => {
    const { adapter } = await open({ prefix: 'tenant/' })
    const keys = Array.from({ length: 1100 }, (_, i) => String(i).padStart(5, '0'))
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map((k) => adapter.put(['log', k], bytes(Number(k) & 0xff))),
      )
    }
    const range = await all(adapter.list({ prefix: ['log'], start: '00990', end: '01050' }))
    expect(range.map((e) => e.key[1])).toEqual(keys.slice(990, 1050))
    expect(range[0]?.value).toEqual(bytes(990 & 0xff))
    expect(
      (await all(adapter.list({ prefix: ['log'], start: '00005', limit: 3 }))).map((e) => e.key[1]),
    ).toEqual(['00005', '00006', '00007'])
    expect((await all(adapter.listChildren(['log']))).length).toBe(1100)
    await adapter.deletePrefix(['log'])
    expect(await all(adapter.listChildren([]))).toEqual([])
  })

  it('streams a 64 MiB blob through multipart upload and back in constant memory', async () => {
    const { adapter } = await open({ partSize: 5 << 20 })
    // Warm up the SDK's multipart path so its one-time allocations are not counted.
    await adapter.putStream(['warm-up'], pattern(11 << 20, 1 << 20))
    const size = 64 << 20
    let written = 0
    const growth = await peakMemoryGrowth(async () => {
      written = await adapter.putStream(['big'], pattern(size, 1 << 20, 3))
    })
    expect(written).toBe(size)
    // About partSize x (queueSize + 1) x 2 copies; buffering the blob would need > 64 MiB.
    expect(growth).toBeLessThan(40 << 20)
    const expected = await digest(pattern(size, 1 << 20, 3))
    let read = { sha: '', size: 0 }
    const readGrowth = await peakMemoryGrowth(async () => {
      read = await digest((await adapter.getStream(['big']))!)
    })
    expect(read).toEqual(expected)
    expect(readGrowth).toBeLessThan(40 << 20)
  })

  it('lets two adapters on one bucket write the same log concurrently', async () => {
    const { adapter: a, bucket } = await open()
    const b = new S3StorageAdapter({ ...(await s3.bucket()), bucket })
    adapters.push(b)
    const seqs = Array.from({ length: 100 }, (_, i) => String(i).padStart(4, '0'))
    await Promise.all(
      seqs.map((s, i) => (i % 2 === 0 ? a : b).put(['doc', 'd', 'log', s], bytes(i))),
    )
    await b.put(['doc', 'd', 'log', '0000'], bytes(0))
    for (const reader of [a, b]) {
      expect(
        (await all(reader.list({ prefix: ['doc', 'd', 'log'] }))).map((e) => e.key[3]),
      ).toEqual(seqs)
    }
  })

  it('keeps the old blob when the source fails mid-upload', async () => {
    const { adapter, bucket } = await open({ partSize: 5 << 20 })
    await adapter.putStream(['f'], pattern(1000))
    async function* failing() {
      yield* pattern(12 << 20, 1 << 20, 8)
      throw new Error('source broke')
    }
    await expect(adapter.putStream(['f'], failing())).rejects.toThrow('source broke')
    expect(await digest((await adapter.getStream(['f']))!)).toEqual(await digest(pattern(1000)))
    // No visible object appeared beside the old one.
    expect(
      (await s3.rawFiles(bucket)).filter((f) => f.path.endsWith('_S3rver_object')).length,
    ).toBe(1)
  })

  it('erases a prefix completely: no object bytes and no directories remain', async () => {
    const { adapter, bucket } = await open()
    const secret = new TextEncoder().encode('ciphertext-of-doc-x-0123456789')
    await adapter.put(['doc', 'x'], secret)
    await adapter.put(['doc', 'x', 'log', '0001'], secret)
    await adapter.putStream(
      ['doc', 'x', 'files', 'f1'],
      (async function* () {
        yield secret
      })(),
    )
    await adapter.put(['doc', 'x-y'], bytes(1))
    await adapter.deletePrefix(['doc', 'x'])
    const needle = Buffer.from(secret)
    expect(s3.rawFiles(bucket).filter((f) => Buffer.from(f.bytes).includes(needle))).toEqual([])
    expect(s3.rawDirectories(bucket).filter((d) => /doc\/x(\/|$)/.test(d))).toEqual([])
    expect(await adapter.get(['doc', 'x-y'])).toEqual(bytes(1))
    await adapter.deletePrefix([])
    expect(s3.rawFiles(bucket)).toEqual([])
  })

  it("reports a missing bucket as 'missing-backend' and a dead endpoint as 'unavailable'", async () => {
    const options = await s3.bucket()
    const missing = new S3StorageAdapter({ ...options, bucket: 'valv-no-such-bucket' })
    adapters.push(missing)
    await expect(missing.put(['k'], bytes(1))).rejects.toMatchObject({ code: 'missing-backend' })
    await expect(missing.get(['k'])).rejects.toMatchObject({ code: 'missing-backend' })
    await expect(missing.check()).rejects.toMatchObject({ code: 'missing-backend' })
    const dead = new S3StorageAdapter({
      ...options,
      endpoint: 'http://127.0.0.1:1',
      clientConfig: { maxAttempts: 1 },
    })
    adapters.push(dead)
    const error = await dead.get(['k']).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StorageError)
    expect(error).toMatchObject({ code: 'unavailable', retryable: true })
  })

  it("rejects bad keys and options before any request, and calls after close() with 'closed'", async () => {
    const { adapter } = await open()
    await expect(adapter.put(['a/b'], bytes(1))).rejects.toMatchObject({ code: 'invalid-key' })
    await expect(adapter.get([''])).rejects.toMatchObject({ code: 'invalid-key' })
    expect(() => new S3StorageAdapter({ bucket: 'valv-x', prefix: 'no-slash' })).toThrow(TypeError)
    expect(() => new S3StorageAdapter({ bucket: 'valv-x', partSize: 1024 })).toThrow(TypeError)
    await adapter.close()
    await expect(adapter.get(['k'])).rejects.toMatchObject({ code: 'closed' })
  })
})

describe('S3StorageAdapter against a model (property)', () => {
  it('agrees with an in-memory model on random histories', async () => {
    const s3 = await startS3()
    const adapter = new S3StorageAdapter(await s3.bucket())
    try {
      await checkAgainstModel(adapter, 15)
    } finally {
      await adapter.close()
      await s3.stop()
    }
  }, 120_000)
})
