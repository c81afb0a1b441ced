/**
 * In-memory Valv storage: {@link MemoryStorageAdapter} implements the `StorageAdapter` seam of
 * `@valv/storage` in process memory, for tests and ephemeral relays.
 *
 * @packageDocumentation
 */
export { MemoryStorageAdapter } from './adapter.js'
export { MemoryBackend } from './tree.js'
