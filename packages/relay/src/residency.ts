import { RelayConfigError } from './errors.js'

/**
 * Where a storage URL keeps data, as one comparable string:
 *
 * - `memory`, `fs`, `sqlite`: on the relay's own host (residency follows the host);
 * - `postgres:<host>`: the database server (the URL's host, else `PGHOST`, else `localhost`);
 * - `s3:<endpoint host>:<region>`: the endpoint's host name (`aws` for Amazon's default
 *   endpoint) and the region (the URL's `region`, else `AWS_REGION`, else empty).
 *
 * @example
 * ```ts
 * storageLocation('s3://arkiv?region=eu-north-1') // 's3:aws:eu-north-1'
 * storageLocation('postgres://valv@db.sthlm.internal/valv') // 'postgres:db.sthlm.internal'
 * ```
 */
export function storageLocation(url: string, env: NodeJS.ProcessEnv = process.env): string {
  if (url === 'memory:' || url === 'memory') return 'memory'
  if (url.startsWith('fs:')) return 'fs'
  if (url.startsWith('sqlite:')) return 'sqlite'
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new RelayConfigError('invalid-option', 'storage URL does not parse')
  }
  if (parsed.protocol === 'postgres:' || parsed.protocol === 'postgresql:') {
    const host = parsed.hostname || parsed.searchParams.get('host') || env.PGHOST || 'localhost'
    return `postgres:${host.toLowerCase()}`
  }
  if (parsed.protocol === 's3:') {
    const endpoint = parsed.searchParams.get('endpoint')
    let host = 'aws'
    if (endpoint !== null) {
      try {
        host = new URL(endpoint).hostname.toLowerCase()
      } catch {
        throw new RelayConfigError('invalid-option', 's3:// endpoint does not parse')
      }
    }
    const region = parsed.searchParams.get('region') ?? env.AWS_REGION ?? ''
    return `s3:${host}:${region}`
  }
  throw new RelayConfigError('unknown-storage', 'storage URL of an unknown kind')
}

function glob(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^:]*')
  return new RegExp(`^${body}$`, 'i')
}

/**
 * Whether `location` (from {@link storageLocation}) is one of `allowed`: exact strings or
 * patterns where `*` stands for any text within one part (`s3:*.eu-north-1.amazonaws.com:*`,
 * `postgres:*.sthlm.internal`, `s3:aws:eu-*`).
 *
 * @example
 * ```ts
 * locationAllowed('s3:aws:eu-north-1', ['s3:aws:eu-*']) // true
 * locationAllowed('s3:aws:us-east-1', ['s3:aws:eu-*']) // false
 * ```
 */
export function locationAllowed(location: string, allowed: readonly string[]): boolean {
  return allowed.some((a) => glob(a.trim()).test(location))
}

/**
 * The data-residency check the relay runs before it starts: the storage URL's location must be
 * allowed, else `RelayConfigError('residency')` naming the location and the list. Returns the
 * location (the relay reports it at `/metrics`).
 *
 * @example
 * ```ts
 * checkResidency('s3://arkiv?region=us-east-1', ['s3:aws:eu-north-1'])
 * // throws: storage location s3:aws:us-east-1 is outside the allowed locations s3:aws:eu-north-1
 * ```
 */
export function checkResidency(
  url: string,
  allowed: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): string {
  const location = storageLocation(url, env)
  if (!locationAllowed(location, allowed)) {
    throw new RelayConfigError(
      'residency',
      `storage location ${location} is outside the allowed locations ${allowed.join(', ') || '(none)'}`,
    )
  }
  return location
}
