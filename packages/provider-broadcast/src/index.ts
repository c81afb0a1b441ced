/**
 * Cross-tab sync for Valv documents over `BroadcastChannel`: two tabs of one origin share
 * edits without the relay, still sealed with the document key and verified before they are
 * applied. Pair it with `@valv/provider-websocket` through one shared `EncryptedDoc` binding.
 *
 * @packageDocumentation
 */
export { BroadcastProviderError, type BroadcastProviderErrorCode } from './errors.js'
export type { TabMessage } from './messages.js'
export {
  BroadcastProvider,
  type BroadcastProviderEvents,
  type BroadcastProviderOptions,
} from './provider.js'
