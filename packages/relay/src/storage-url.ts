import type { StorageAdapter } from '@valv/storage'
import { RelayConfigError } from './errors.js'

// Loaded by name at run time so adapter packages (and native modules) stay optional.
async function load(pkg: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pkg)) as Record<string, unknown>
  } catch {
    throw new RelayConfigError('storage-unavailable', `install ${pkg} to use this storage URL`)
  }
}

function construct(mod: Record<string, unknown>, name: string, arg: unknown): StorageAdapter {
  const Ctor = mod[name] as (new (a: unknown) => StorageAdapter) | undefined
  if (typeof Ctor !== 'function') {
    throw new RelayConfigError('storage-unavailable', `adapter package lacks ${name}`)
  }
  return new Ctor(arg)
}

/**
 * Open a storage adapter from a URL: `memory:`, `fs:./data`, `sqlite:./data.db`,
 * `postgres://user@host/db`, `s3://bucket/prefix?endpoint=https://…` (see {@link s3Options}).
 * The adapter package (`@valv/storage-memory`, `-fs`, `-sqlite`, `-postgres`, `-s3`) must be
 * installed.
 *
 * @example
 * ```ts
 * const storage = await openStorage('fs:./data')
 * ```
 */
export async function openStorage(url: string): Promise<StorageAdapter> {
  if (url === 'memory:' || url === 'memory') {
    return construct(await load('@valv/storage-memory'), 'MemoryStorageAdapter', undefined)
  }
  if (url.startsWith('fs:')) {
    return construct(await load('@valv/storage-fs'), 'FsStorageAdapter', {
      directory: url.slice(3),
    })
  }
  if (url.startsWith('sqlite:')) {
    const mod = await load('@valv/storage-sqlite')
    return construct(mod, 'SqliteStorageAdapter', { filename: url.slice(7) })
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const mod = await load('@valv/storage-postgres')
    return construct(mod, 'PostgresStorageAdapter', postgresOptions(url))
  }
  if (url.startsWith('s3://')) {
    return construct(await load('@valv/storage-s3'), 'S3StorageAdapter', s3Options(url))
  }
  throw new RelayConfigError(
    'unknown-storage',
    'storage URL must start with memory:, fs:, sqlite:, postgres:// or s3://',
  )
}

/**
 * `postgres://…?schema=valv&tablePrefix=t1_`: the two Valv settings are taken out of the query
 * (PostgreSQL would refuse them as startup parameters); the rest stays the connection string.
 */
function postgresOptions(url: string): Record<string, unknown> {
  const q = url.indexOf('?')
  if (q === -1) return { connectionString: url }
  const params = new URLSearchParams(url.slice(q + 1))
  const schema = params.get('schema')
  const tablePrefix = params.get('tablePrefix')
  params.delete('schema')
  params.delete('tablePrefix')
  const rest = params.toString()
  return {
    connectionString: rest === '' ? url.slice(0, q) : `${url.slice(0, q)}?${rest}`,
    ...(schema === null ? {} : { schema }),
    ...(tablePrefix === null ? {} : { tablePrefix }),
  }
}

/**
 * `s3://bucket/prefix?endpoint=https://…&region=…&forcePathStyle=true`: credentials come from
 * the SDK's usual chain (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, profile, instance role),
 * never from the URL, so they stay out of process listings and logs.
 */
export function s3Options(url: string): Record<string, unknown> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new RelayConfigError('invalid-option', 's3:// URL does not parse')
  }
  if (parsed.username || parsed.password) {
    throw new RelayConfigError('invalid-option', 'put S3 credentials in AWS_* variables')
  }
  const bucket = parsed.hostname
  if (!bucket) throw new RelayConfigError('invalid-option', 's3:// URL needs a bucket')
  const path = decodeURIComponent(parsed.pathname).replace(/^\/+/, '')
  const prefix = path === '' ? '' : path.endsWith('/') ? path : `${path}/`
  const q = parsed.searchParams
  for (const key of q.keys()) {
    if (!['endpoint', 'region', 'forcePathStyle'].includes(key)) {
      throw new RelayConfigError('invalid-option', `unknown s3:// parameter ${key}`)
    }
  }
  const endpoint = q.get('endpoint')
  const region = q.get('region')
  const pathStyle = q.get('forcePathStyle')
  return {
    bucket,
    prefix,
    ...(endpoint === null ? {} : { endpoint }),
    ...(region === null ? {} : { region }),
    // An endpoint is usually Ceph/MinIO, which want path-style addressing.
    forcePathStyle: pathStyle === null ? endpoint !== null : pathStyle === 'true',
  }
}
