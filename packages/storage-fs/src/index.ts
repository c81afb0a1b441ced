/**
 * Filesystem Valv storage (Node): {@link FsStorageAdapter} implements the `StorageAdapter` seam
 * of `@valv/storage` with atomic, fsynced writes that survive `kill -9`.
 *
 * @packageDocumentation
 */
export { FsStorageAdapter, type FsStorageOptions } from './adapter.js'
