import { routeStorage } from '@valv/storage'
import { runStorageAdapterTests } from '@valv/storage/conformance'
import { PostgresStorageAdapter } from '@valv/storage-postgres'
import { afterAll } from 'vitest'
import {
  dropSchema,
  freshSchema,
  testConnectionString,
} from '../../storage-postgres/test/helpers.js'
import { S3StorageAdapter } from '../src/index.js'
import { startS3, type TestS3 } from './s3rver.js'

// The relay's "PostgreSQL + S3" layout: values, create and tryLock in PostgreSQL, blobs and
// snapshots in S3 (s3rver on loopback), behind one routed adapter.
let server: Promise<TestS3> | undefined
const s3 = () => {
  server ??= startS3()
  return server
}
afterAll(async () => {
  if (server) await (await server).stop()
})

runStorageAdapterTests(
  'routeStorage (PostgreSQL + S3)',
  async () => {
    const s3Options = { ...(await (await s3()).bucket()), partSize: 5 << 20 }
    const url = await testConnectionString()
    const schema = freshSchema()
    const open = () =>
      routeStorage({
        default: new PostgresStorageAdapter({ connectionString: url, schema, chunkSize: 1 << 20 }),
        blobs: new S3StorageAdapter(s3Options),
      })
    const adapter = open()
    return {
      adapter,
      reopen: async () => open(),
      teardown: async () => {
        await adapter.close()
        await dropSchema(url, schema)
      },
    }
  },
  { memoryLimitBytes: 32 << 20, manyDocuments: 150, modelRuns: 10, timeoutMs: 240_000 },
)
