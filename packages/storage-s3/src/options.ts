import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3'

/**
 * Where {@link S3StorageAdapter} stores objects. Works with AWS S3 and S3-compatible services
 * (Ceph RGW, MinIO, Swedish/EU providers): set `endpoint` and usually `forcePathStyle`.
 *
 * @example
 * ```ts
 * const options: S3StorageOptions = {
 *   endpoint: 'https://s3.example.se',
 *   region: 'se-sto-1',
 *   bucket: 'valv-prod',
 *   forcePathStyle: true,
 *   credentials: { accessKeyId: process.env.S3_KEY!, secretAccessKey: process.env.S3_SECRET! },
 *   prefix: 'relay-1/',
 * }
 * ```
 */
export interface S3StorageOptions {
  /** The bucket; it must exist (a missing bucket raises `missing-backend`). */
  readonly bucket: string
  /** Service URL for non-AWS endpoints, e.g. `https://rgw.internal:7480`. */
  readonly endpoint?: string
  /** Region; S3-compatible services usually accept any value. Default `us-east-1`. */
  readonly region?: string
  /** Address buckets as `endpoint/bucket/key` (needed by most Ceph/MinIO setups). */
  readonly forcePathStyle?: boolean
  /** Static credentials; omit to use the SDK's default provider chain (env, profile, IMDS). */
  readonly credentials?: {
    readonly accessKeyId: string
    readonly secretAccessKey: string
    readonly sessionToken?: string
  }
  /** Prefix of every object key, e.g. `tenant-a/`; empty or ending in `/`. Default empty. */
  readonly prefix?: string
  /** Multipart part size in bytes for blobs (default 8 MiB, at least 5 MiB). */
  readonly partSize?: number
  /** Parts uploaded in parallel (default 2); memory use is about `partSize * (queueSize + 1)`. */
  readonly queueSize?: number
  /** Use this client instead of creating one; `close()` then leaves it open. */
  readonly client?: S3Client
  /** Extra client settings (retries, TLS agent, timeouts) merged into the created client. */
  readonly clientConfig?: S3ClientConfig
}

/** Options after defaults and validation. */
export interface ResolvedS3Options {
  readonly bucket: string
  readonly prefix: string
  readonly partSize: number
  readonly queueSize: number
}

const PREFIX = /^([A-Za-z0-9._~-]{1,200}\/)*$/

/** Apply defaults; throws `TypeError` on values S3 would reject or that would break ordering. */
export function resolveS3Options(options: S3StorageOptions): ResolvedS3Options {
  const prefix = options.prefix ?? ''
  const partSize = options.partSize ?? 8 << 20
  const queueSize = options.queueSize ?? 2
  if (typeof options.bucket !== 'string' || options.bucket.length < 3)
    throw new TypeError('bucket is required')
  if (!PREFIX.test(prefix))
    throw new TypeError('prefix must be empty or segments each ending in "/"')
  if (!Number.isInteger(partSize) || partSize < 5 << 20)
    throw new TypeError('partSize must be >= 5 MiB')
  if (!Number.isInteger(queueSize) || queueSize < 1) throw new TypeError('queueSize must be >= 1')
  return { bucket: options.bucket, prefix, partSize, queueSize }
}
