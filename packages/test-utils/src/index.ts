/**
 * Shared fixtures of the workspace's tests, on the real envelope format: real `DocumentSession`s
 * whose chains are verified as the relay verifies them. Private, never built or published.
 * Browser-safe (the Chromium test pages bundle it); Node-only helpers live in
 * `@valv/test-utils/relay` and `@valv/test-utils/stack`.
 */
export { LocalRelay } from './local-relay.js'
export {
  type SharedDocument,
  type SharedDocumentOptions,
  sharedDocument,
} from './shared-document.js'
