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
 * `postgres://user@host/db`. The adapter package (`@valv/storage-memory`, `-fs`, `-sqlite`,
 * `-postgres`) must be installed.
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
    return construct(mod, 'PostgresStorageAdapter', { connectionString: url })
  }
  throw new RelayConfigError(
    'unknown-storage',
    'storage URL must start with memory:, fs:, sqlite: or postgres://',
  )
}
