// A relay on S3-compatible object storage (MinIO, Ceph RGW, a sovereign cloud's object store)
// instead of PostgreSQL. The `valv-relay` CLI has no s3: storage URL, so this embeds the relay.
// Run: npm install @valv/relay @valv/storage-s3 ws && node --experimental-strip-types relay-s3.ts
// (Node 22.6+) or compile it with tsc first.
import { defaultVerifier, jsonLogger, Relay } from '@valv/relay'
import { S3StorageAdapter } from '@valv/storage-s3'

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback
  if (value === undefined) throw new Error(`set ${name}`)
  return value
}

const storage = new S3StorageAdapter({
  bucket: env('VALV_S3_BUCKET'),
  endpoint: env('VALV_S3_ENDPOINT'), // e.g. https://minio.internal.example.se:9000
  region: env('VALV_S3_REGION', 'us-east-1'),
  forcePathStyle: true,
  credentials: {
    accessKeyId: env('VALV_S3_ACCESS_KEY_ID'),
    secretAccessKey: env('VALV_S3_SECRET_ACCESS_KEY'),
  },
  prefix: env('VALV_S3_PREFIX', 'valv/'),
})

const origins = process.env.VALV_RELAY_ALLOWED_ORIGINS
const relay = new Relay({
  storage,
  verifier: defaultVerifier(),
  logger: jsonLogger,
  ...(origins ? { allowedOrigins: origins.split(',') } : {}),
})
await relay.listen(Number(env('VALV_RELAY_PORT', '8080')), env('VALV_RELAY_HOST', '127.0.0.1'))

const stop = () => {
  relay.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
