import { Agent } from 'node:http'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { StorageError } from '@valv/storage'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toStorageError } from '../src/errors.js'
import { S3StorageAdapter } from '../src/index.js'
import { startS3, type TestS3 } from './s3rver.js'

/**
 * A TCP relay in front of s3rver that cuts the next `drops` connections as soon as they
 * arrive (the connection is lost before any response), then forwards normally.
 */
async function flakyProxy(target: URL) {
  let drops = 0
  let dropped = 0
  const server = createServer((client: Socket) => {
    if (drops > 0) {
      drops--
      dropped++
      client.resetAndDestroy()
      return
    }
    const upstream = connect(Number(target.port), target.hostname)
    client.pipe(upstream).pipe(client)
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end)
    upstream.on('error', end)
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    server: server as Server,
    drop: (n: number) => {
      drops = n
    },
    dropped: () => dropped,
  }
}

describe('S3StorageAdapter errors', () => {
  let s3: TestS3
  beforeAll(async () => {
    s3 = await startS3()
  })
  afterAll(async () => {
    await s3.stop()
  })

  it("retries a lost connection, and reports it as retryable 'unavailable' when retries run out", async () => {
    const proxy = await flakyProxy(new URL(s3.endpoint))
    const options = { ...(await s3.bucket()), endpoint: proxy.url }
    // Fresh sockets per request, so every request meets the proxy's next connection.
    const requestHandler = { httpAgent: new Agent({ keepAlive: false }) }
    const adapter = new S3StorageAdapter({
      ...options,
      clientConfig: { maxAttempts: 3, requestHandler },
    })
    const once = new S3StorageAdapter({
      ...options,
      clientConfig: { maxAttempts: 1, requestHandler },
    })
    try {
      proxy.drop(2)
      await adapter.put(['k'], new Uint8Array([1, 2]))
      proxy.drop(2)
      expect(await adapter.get(['k'])).toEqual(new Uint8Array([1, 2]))
      proxy.drop(2)
      const blob = async function* () {
        yield new Uint8Array([3])
      }
      expect(await adapter.putStream(['b'], blob())).toBe(1)
      expect(proxy.dropped()).toBe(6)
      proxy.drop(1)
      const error = await once.get(['k']).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(StorageError)
      expect(error).toMatchObject({ code: 'unavailable', retryable: true })
      // Nothing was lost or duplicated by the retries.
      expect(await once.get(['k'])).toEqual(new Uint8Array([1, 2]))
    } finally {
      await adapter.close()
      await once.close()
      await new Promise((done) => proxy.server.close(done))
    }
  })

  it("maps quota and full-storage answers of S3-compatible servers to 'full'", () => {
    const answer = (name: string, status: number) =>
      Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } })
    for (const e of [
      answer('QuotaExceeded', 403),
      answer('XMinioStorageFull', 507),
      answer('XMinioAdminBucketQuotaExceeded', 400),
      answer('InsufficientStorage', 507),
    ]) {
      expect(toStorageError(e, 'put')).toMatchObject({ code: 'full', retryable: false })
    }
    expect(toStorageError(answer('NoSuchBucket', 404), 'put')).toMatchObject({
      code: 'missing-backend',
    })
    expect(toStorageError(answer('SlowDown', 503), 'put')).toMatchObject({
      code: 'unavailable',
      retryable: true,
    })
    const bug = new TypeError('not an S3 answer')
    expect(toStorageError(bug, 'put')).toBe(bug)
  })
})
