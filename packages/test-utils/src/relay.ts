/**
 * Node-side helpers for relay tests: a raw wire client and a small storage adapter that lets a
 * test read what the relay stored.
 */

export { TestMemoryStorage } from './memory-storage.js'
export { TestClient } from './relay-client.js'
