/**
 * Storage for Valv: the {@link StorageAdapter} seam that backends implement, and
 * {@link DocumentStore}, the one key layout and compaction above it. Adapters live in their own
 * packages (`@valv/storage-memory`, `-fs`, `-sqlite`, `-postgres`, `-s3`, `-indexeddb`); the
 * shared conformance suite is `@valv/storage/conformance`.
 *
 * @packageDocumentation
 */
export type { KeyRange, StorageAdapter, StorageEntry, StorageKey } from './adapter.js'
export { DocumentStore, type LogEntry, type SeqRange, type Snapshot } from './document-store.js'
export { assertValidKey, StorageError, type StorageErrorCode } from './errors.js'
export { rechunk } from './rechunk.js'
export { routeStorage, type StorageRoutes } from './route-storage.js'
