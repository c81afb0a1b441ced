// Runs s3rver in its own process for the tests: memory measurements then see only the adapter,
// and s3rver's continuation tokens use DES, which Node 20 only offers with
// --openssl-legacy-provider (without it every listing longer than 1000 keys fails).
import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import S3rver from 's3rver'

// s3rver 3.7.1 bug: with a delimiter, its directory walk prunes folders two levels below the
// prefix before looking inside, so `a/b/c` never shows up as the common prefix `a/` of a
// listing at the bucket root (real S3, Ceph and MinIO report it). Objects and pagination are
// right, so only the missing common prefixes are added: every sub-folder of the listed folder
// holding at least one object, after StartAfter and, on a truncated page, before its last key.
const require = createRequire(import.meta.url)
const FilesystemStore = require('s3rver/lib/stores/filesystem')
const listObjects = FilesystemStore.prototype.listObjects
const holdsObject = (dir) =>
  readdirSync(dir, { withFileTypes: true }).some((e) =>
    e.isDirectory() ? holdsObject(join(dir, e.name)) : e.name.endsWith('._S3rver_object'),
  )
FilesystemStore.prototype.listObjects = async function (bucket, options) {
  const result = await listObjects.call(this, bucket, options)
  const { delimiter = '', prefix = '', startAfter = '' } = options
  if (delimiter !== '/' || !(prefix === '' || prefix.endsWith('/'))) return result
  const folder = join(this.getBucketPath(bucket), prefix)
  if (!existsSync(folder)) return result
  const last = result.isTruncated ? result.objects.at(-1)?.key : undefined
  const prefixes = new Set(result.commonPrefixes)
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const candidate = `${prefix}${entry.name}/`
    if (!entry.isDirectory()) continue
    // Every key below the candidate sorts before StartAfter.
    if (candidate < startAfter && !startAfter.startsWith(candidate)) continue
    if (last !== undefined && candidate > last) continue
    if (holdsObject(join(folder, entry.name))) prefixes.add(candidate)
  }
  return { ...result, commonPrefixes: [...prefixes].sort() }
}

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: process.argv[2],
})
const { port } = await server.run()
process.stdout.write(`${JSON.stringify({ port })}\n`)
process.stdin.resume()
process.stdin.on('end', () => server.close().then(() => process.exit(0)))
