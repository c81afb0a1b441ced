// The classes `browser/rpc.ts` puts on `window.valvIdb`, for typing page-side code.
export { DocumentStore } from '@valv/storage'
export { IndexedDBStorageAdapter } from '../../src/index.js'
