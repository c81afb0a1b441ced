/**
 * Scale-out with files in S3 (issue 14): relay nodes keep the log, membership and claims in
 * PostgreSQL and file blobs and snapshots in S3 (`routeStorage`, the relay's `--blob-storage`).
 * A file uploaded at one node lands in S3, not PostgreSQL, downloads byte-identical at another
 * node, and deleting the document removes it from both. Real PostgreSQL, Redis and an S3 API
 * server (s3rver) on loopback.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DocumentSession, Identity } from '@valv/crypto'
import { downloadFile, uploadFile } from '@valv/provider-websocket'
import { RedisBus } from '@valv/relay'
import { DocumentStore, routeStorage, type StorageAdapter } from '@valv/storage'
import { FsStorageAdapter } from '@valv/storage-fs'
import { PostgresStorageAdapter } from '@valv/storage-postgres'
import { S3StorageAdapter } from '@valv/storage-s3'
import {
  cleanup,
  connect,
  onCleanup,
  type Stack,
  startRelayProcess,
  startStack,
} from '@valv/test-utils/stack'
import { afterEach, describe, expect, it } from 'vitest'
import { sql } from '../../packages/storage-postgres/test/helpers.js'
import { startS3 } from '../../packages/storage-s3/test/s3rver.js'
import { REDIS, shared } from './cluster.js'

afterEach(cleanup)

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const i of items) out.push(i)
  return out
}

describe('scale-out: PostgreSQL for the log, S3 for files', () => {
  it('a file uploaded at one node lands in S3 only, downloads intact at another, and goes with the document', async () => {
    const env = await shared()
    const s3 = await startS3()
    onCleanup(() => s3.stop())
    const bucket = { ...(await s3.bucket()), partSize: 5 << 20 }
    const prefix = `${env.prefix}files:`
    const routed = (): StorageAdapter =>
      routeStorage({
        default: new PostgresStorageAdapter({ connectionString: env.pg, schema: env.schema }),
        blobs: new S3StorageAdapter(bucket),
      })
    const stacks: Stack[] = []
    for (let i = 0; i < 2; i++) {
      const cluster = await RedisBus.connect({ url: REDIS, prefix, nodeId: `node-${i}` })
      stacks.push(await startStack({ storage: routed(), cluster }))
    }
    const [a, b] = stacks as [Stack, Stack]
    const annaId = await Identity.create({ displayName: 'Anna' })
    const anna = await DocumentSession.create(annaId)
    const pa = await connect(a.url, anna)
    pa.doc.getText('t').insert(0, 'hello')
    const plain = randomBytes(3 * 1024 * 1024 + 17)
    const file = await uploadFile(pa, anna, plain)

    // The ciphertext is in S3 and nowhere in PostgreSQL's blob tables.
    const s3Only = new S3StorageAdapter(bucket)
    const pgOnly = new PostgresStorageAdapter({ connectionString: env.pg, schema: env.schema })
    onCleanup(() => s3Only.close())
    onCleanup(() => pgOnly.close())
    const inS3 = await all(s3Only.listChildren(['docs', anna.docId, 'blob']))
    expect(inS3).toContain(`file.${file.blobId}.${file.storedBytes}`)
    expect(await all(pgOnly.listChildren(['docs', anna.docId, 'blob']))).toEqual([])
    const [{ n }] = (await sql<{ n: string }>(
      env.pg,
      `SELECT count(*) AS n FROM "${env.schema}".valv_chunks`,
    )) as [{ n: string }]
    expect(Number(n)).toBe(0)
    // The log and membership stay in PostgreSQL.
    expect(await all(pgOnly.listChildren(['docs', anna.docId]))).toEqual(
      expect.arrayContaining(['log']),
    )
    expect(await all(s3Only.listChildren(['docs', anna.docId]))).not.toContain('log')

    // Downloaded at the other node: byte-identical.
    const bo = await DocumentSession.open(annaId, anna.docId)
    const pb = await connect(b.url, bo)
    const got = new Uint8Array(await new Response(downloadFile(pb, bo, file)).arrayBuffer())
    expect(sha(got)).toBe(sha(plain))

    // Deleting the document removes it from both stores.
    await new DocumentStore(routed()).deleteDocument(anna.docId)
    expect(await all(s3Only.listChildren(['docs']))).not.toContain(anna.docId)
    expect(await all(pgOnly.listChildren(['docs']))).not.toContain(anna.docId)
  }, 120_000)

  it('the CLI keeps files in --blob-storage and the rest in --storage', async () => {
    const env = await shared()
    const dir = await mkdtemp(join(tmpdir(), 'valv-blob-storage-'))
    onCleanup(() => rm(dir, { recursive: true, force: true }))
    const relay = await startRelayProcess([
      '--storage',
      `${env.pg}?schema=${env.schema}`,
      '--blob-storage',
      `fs:${dir}`,
    ])
    const annaId = await Identity.create({ displayName: 'Anna' })
    const anna = await DocumentSession.create(annaId)
    const p = await connect(relay.url, anna)
    const plain = randomBytes(200_000)
    const file = await uploadFile(p, anna, plain)
    const fs = new FsStorageAdapter({ directory: dir })
    const pgOnly = new PostgresStorageAdapter({ connectionString: env.pg, schema: env.schema })
    onCleanup(() => fs.close())
    onCleanup(() => pgOnly.close())
    expect(await all(fs.listChildren(['docs', anna.docId, 'blob']))).toContain(
      `file.${file.blobId}.${file.storedBytes}`,
    )
    expect(await all(pgOnly.listChildren(['docs', anna.docId, 'blob']))).toEqual([])
    expect(await all(pgOnly.listChildren(['docs', anna.docId]))).toContain('member')
    const got = new Uint8Array(await new Response(downloadFile(p, anna, file)).arrayBuffer())
    expect(sha(got)).toBe(sha(plain))
  }, 60_000)
})
