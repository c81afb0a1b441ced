import { parseArgs } from 'node:util'
import { RelayConfigError } from './errors.js'
import type { DEFAULT_LIMITS, RelayLimits } from './limits.js'

/** Settings of the `valv-relay` command, from flags or `VALV_RELAY_*` environment variables. */
export interface CliSettings {
  readonly port: number
  readonly host: string
  readonly storage: string
  /**
   * Storage URL for file blobs and snapshots (e.g. `s3://…`) beside `storage`, which then keeps
   * only the log, membership and claims (`routeStorage`); unset = everything in `storage`.
   */
  readonly blobStorage: string | undefined
  readonly allowedOrigins: readonly string[] | undefined
  readonly limits: Partial<RelayLimits>
  /** Bytes of membership chains the verifier keeps decoded (`defaultVerifier`'s `cacheBytes`). */
  readonly verifierCacheBytes: number | undefined
  readonly webhookUrl: string | undefined
  readonly webhookSecret: string | undefined
  /** Scale-out: Redis URL of the bus shared by the relay nodes. */
  readonly redis: string | undefined
  /** Channel prefix on that Redis (several clusters on one Redis). */
  readonly redisPrefix: string | undefined
  /** This node's id (the `node` label of `/metrics`); random when unset. */
  readonly nodeId: string | undefined
  /** Data residency: allowed storage locations (`checkResidency`); unset = no check. */
  readonly allowedLocations: readonly string[] | undefined
  /** File holding the relay's 32-byte Ed25519 audit key (hex); enables its audit trail. */
  readonly auditKeyFile: string | undefined
  /** Scale-out: quiet rooms check the store after this many ms (see `RelayOptions`). */
  readonly clusterPollMs: number | undefined
  readonly help: boolean
}

const LIMIT_FLAGS: Record<string, keyof RelayLimits> = {
  'max-frame-bytes': 'maxFrameBytes',
  'max-snapshot-bytes': 'maxSnapshotBytes',
  'auth-timeout-ms': 'authTimeoutMs',
  'max-docs-per-connection': 'maxDocsPerConnection',
  'max-subscribers-per-doc': 'maxSubscribersPerDoc',
  'max-documents': 'maxDocuments',
  'messages-per-second': 'messagesPerSecond',
  'bytes-per-second': 'bytesPerSecond',
  'max-buffered-bytes': 'maxBufferedBytes',
  'max-presence-bytes': 'maxPresenceBytes',
  'pre-auth-max-bytes': 'preAuthMaxBytes',
  'max-connections-per-ip': 'maxConnectionsPerIp',
  'idle-timeout-ms': 'idleTimeoutMs',
  'file-quota-bytes': 'fileQuotaBytes',
  'upload-ttl-ms': 'uploadTtlMs',
}

/** `--help` text. */
export const USAGE = `valv-relay: zero-knowledge relay for Valv documents

  --port <n>              VALV_RELAY_PORT       (default 8080)
  --host <addr>           VALV_RELAY_HOST       (default 127.0.0.1)
  --storage <url>         VALV_RELAY_STORAGE    memory: | fs:./data | sqlite:./data.db | postgres://…
                                                | s3://bucket/prefix?endpoint=…&region=…
  --blob-storage <url>    VALV_RELAY_BLOB_STORAGE  files and snapshots here (e.g. s3://…), the
                          log, membership and claims stay in --storage (e.g. postgres://…)
  --redis <url>           VALV_RELAY_REDIS      redis://host:6379 (scale-out; needs postgres://)
  --redis-prefix <p>      VALV_RELAY_REDIS_PREFIX  (default valv:)
  --node-id <id>          VALV_RELAY_NODE_ID    (default random; /metrics node label)
  --cluster-poll-ms <n>   VALV_RELAY_CLUSTER_POLL_MS (default 5000; 0 off: quiet rooms check the store)
  --allowed-origins <a,b> VALV_RELAY_ALLOWED_ORIGINS
  --webhook-url <url>     VALV_RELAY_WEBHOOK_URL   (content-free change notifications)
  --webhook-secret <s>    VALV_RELAY_WEBHOOK_SECRET
  --verifier-cache-bytes <n> VALV_RELAY_VERIFIER_CACHE_BYTES (default 64 MiB)
  --allowed-locations <a,b> VALV_RELAY_ALLOWED_LOCATIONS  refuse to start unless storage (and
                          blob storage) is in one
                          (e.g. s3:aws:eu-north-1, postgres:*.sthlm.internal, fs)
  --audit-key-file <path> VALV_RELAY_AUDIT_KEY_FILE  hex Ed25519 key: the relay's audit trail
                          (and the erase frame)
${Object.keys(LIMIT_FLAGS)
  .map((f) => `${`  --${f} <n>`.padEnd(26)}VALV_RELAY_${f.toUpperCase().replaceAll('-', '_')}`)
  .join('\n')}
`

function toNumber(name: string, value: string): number {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RelayConfigError('invalid-option', `--${name} must be a non-negative integer`)
  }
  return n
}

function list(value: string | undefined): readonly string[] | undefined {
  return value === undefined
    ? undefined
    : value
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean)
}

/** Parse flags (which win) and environment variables. Throws {@link RelayConfigError}. */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): CliSettings {
  const names = [
    'port',
    'host',
    'storage',
    'blob-storage',
    'allowed-origins',
    'webhook-url',
    'webhook-secret',
    'verifier-cache-bytes',
    'redis',
    'redis-prefix',
    'node-id',
    'allowed-locations',
    'audit-key-file',
    'cluster-poll-ms',
  ]
  const options: Record<string, { type: 'string' } | { type: 'boolean' }> = {
    help: { type: 'boolean' },
  }
  for (const n of [...names, ...Object.keys(LIMIT_FLAGS)]) options[n] = { type: 'string' }
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({ args: [...argv], options, strict: true }).values as typeof values
  } catch (err) {
    throw new RelayConfigError('invalid-option', err instanceof Error ? err.message : 'bad flags')
  }
  const get = (name: string): string | undefined => {
    const flag = values[name]
    if (typeof flag === 'string') return flag
    return env[`VALV_RELAY_${name.toUpperCase().replaceAll('-', '_')}`]
  }
  const limits: Partial<Record<keyof RelayLimits, number>> = {}
  for (const [flag, key] of Object.entries(LIMIT_FLAGS)) {
    const v = get(flag)
    if (v !== undefined) limits[key] = toNumber(flag, v)
  }
  const origins = get('allowed-origins')
  const cacheBytes = get('verifier-cache-bytes')
  const pollMs = get('cluster-poll-ms')
  return {
    port: toNumber('port', get('port') ?? '8080'),
    host: get('host') ?? '127.0.0.1',
    storage: get('storage') ?? 'memory:',
    blobStorage: get('blob-storage'),
    allowedOrigins: origins ? origins.split(',').map((o) => o.trim()) : undefined,
    limits: { ...limits } satisfies Partial<typeof DEFAULT_LIMITS>,
    verifierCacheBytes:
      cacheBytes === undefined ? undefined : toNumber('verifier-cache-bytes', cacheBytes),
    webhookUrl: get('webhook-url'),
    webhookSecret: get('webhook-secret'),
    redis: get('redis'),
    redisPrefix: get('redis-prefix'),
    nodeId: get('node-id'),
    allowedLocations: list(get('allowed-locations')),
    auditKeyFile: get('audit-key-file'),
    clusterPollMs: pollMs === undefined ? undefined : toNumber('cluster-poll-ms', pollMs),
    help: values.help === true,
  }
}
