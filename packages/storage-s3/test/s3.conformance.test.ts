import { relative } from 'node:path'
import { runStorageAdapterTests } from '@valv/storage/conformance'
import { afterAll } from 'vitest'
import { S3StorageAdapter } from '../src/index.js'
import { startS3, type TestS3 } from './s3rver.js'

let server: Promise<TestS3> | undefined
const s3 = () => {
  server ??= startS3()
  return server
}
afterAll(async () => {
  if (server) await (await server).stop()
})

// s3rver keeps its multipart staging folder at the bucket root once it has been used; it is
// server bookkeeping shared by all keys, not a per-document container.
const STAGING = '._S3rver_uploads'

runStorageAdapterTests(
  'S3StorageAdapter (s3rver)',
  async () => {
    const server = await s3()
    const options = { ...(await server.bucket()), partSize: 5 << 20 }
    const adapter = new S3StorageAdapter(options)
    const root = `${server.directory}/${options.bucket}`
    return {
      adapter,
      reopen: async () => new S3StorageAdapter(options),
      // The bucket's directory on disk: object bodies, metadata, staged parts and every path.
      scanRaw: async () => {
        const files = server.rawFiles(options.bucket)
        const items = files.flatMap((f) => [
          f.bytes,
          new TextEncoder().encode(relative(root, f.path)),
        ])
        const emptyContainers = server
          .rawDirectories(options.bucket)
          .filter((d) => !files.some((f) => f.path.startsWith(`${d}/`)))
          .map((d) => relative(root, d))
          .filter((d) => d !== STAGING)
        return { items, emptyContainers }
      },
      teardown: () => adapter.close(),
    }
  },
  // Multipart keeps about partSize x (queueSize + 1) x 2 copies in flight, whatever the size.
  { memoryLimitBytes: 32 << 20, manyDocuments: 150, modelRuns: 10, timeoutMs: 240_000 },
)
