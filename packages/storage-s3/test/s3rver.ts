import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import type { S3StorageOptions } from '../src/index.js'

/**
 * A real S3 API server (s3rver, in a child process) on an ephemeral loopback port, backed by
 * a temp directory.
 */
export interface TestS3 {
  readonly endpoint: string
  readonly directory: string
  /** Options for a fresh bucket (created) that no other test uses. */
  bucket(): Promise<S3StorageOptions>
  /** Every file below the bucket's directory, with its bytes (the raw backing store). */
  rawFiles(bucket: string): { path: string; bytes: Uint8Array }[]
  /** Directories below the bucket's directory (to find leftovers). */
  rawDirectories(bucket: string): string[]
  stop(): Promise<void>
}

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }
let counter = 0

/** Start s3rver; call `stop()` in teardown. */
export async function startS3(): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'valv-s3-'))
  const main = fileURLToPath(new URL('./s3rver-main.mjs', import.meta.url))
  const child = spawn(process.execPath, ['--openssl-legacy-provider', main, directory], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const [line] = (await once(child.stdout, 'data')) as [Buffer]
  const { port } = JSON.parse(line.toString('utf8')) as { port: number }
  const endpoint = `http://127.0.0.1:${port}`
  const admin = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials })
  const walk = (dir: string, files: boolean): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name)
      const isDir = statSync(path).isDirectory()
      return [...(isDir === !files ? [path] : []), ...(isDir ? walk(path, files) : [])]
    })
  return {
    endpoint,
    directory,
    async bucket() {
      const bucket = `valv-${process.pid}-${++counter}`
      await admin.send(new CreateBucketCommand({ Bucket: bucket }))
      return { endpoint, bucket, region: 'us-east-1', forcePathStyle: true, credentials }
    },
    rawFiles: (bucket) =>
      walk(join(directory, bucket), true).map((path) => ({ path, bytes: readFileSync(path) })),
    rawDirectories: (bucket) => walk(join(directory, bucket), false),
    async stop() {
      admin.destroy()
      const exited = once(child, 'exit')
      child.stdin.end()
      await exited
      rmSync(directory, { recursive: true, force: true })
    },
  }
}
