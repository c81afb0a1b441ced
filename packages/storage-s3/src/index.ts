/**
 * S3-compatible object storage for Valv: {@link S3StorageAdapter} implements the
 * `StorageAdapter` seam of `@valv/storage` on AWS S3, Ceph RGW, MinIO or any provider's S3
 * endpoint, with multipart upload for large blobs.
 *
 * @packageDocumentation
 */
export { S3StorageAdapter } from './adapter.js'
export type { S3StorageOptions } from './options.js'
