/**
 * IndexedDB storage for Valv in the browser: {@link IndexedDBStorageAdapter} implements the
 * `StorageAdapter` seam of `@valv/storage` on idb-keyval's store helpers; providers use it as
 * their offline cache of ciphertext.
 *
 * @packageDocumentation
 */
export { IndexedDBStorageAdapter } from './adapter.js'
export type { IndexedDBStorageOptions } from './options.js'
