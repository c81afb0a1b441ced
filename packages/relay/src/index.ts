/**
 * The Valv relay: a zero-knowledge WebSocket server that keeps an ordered log of verified
 * ciphertext per document and forwards it to subscribers. It never decrypts, never builds a
 * `Y.Doc` and never imports client key material. Frames are `@valv/wire`'s.
 *
 * @packageDocumentation
 */
export { RelayAuditLog, type RelayAuditOptions } from './audit-log.js'
export type { ClusterBus } from './cluster.js'
export { RelayConfigError, type RelayConfigErrorCode, RelayError } from './errors.js'
export type {
  AuthenticatePayload,
  AuthorizePayload,
  ChangePayload,
  ConnectPayload,
  DisconnectPayload,
  RelayExtension,
  SessionContext,
} from './hooks.js'
export { DEFAULT_LIMITS, type RelayLimits } from './limits.js'
export { jsonLogger, type LogRecord, type RelayLogger, silentLogger } from './logger.js'
export { RelayMetrics, renderMetrics } from './metrics.js'
export { defaultVerifier, type ProtocolVerifierOptions } from './protocol-verifier.js'
export type { ReadinessOptions } from './readiness.js'
export { RedisBus, type RedisBusOptions } from './redis-bus.js'
export { Relay, type RelayOptions } from './relay.js'
export { checkResidency, locationAllowed, storageLocation } from './residency.js'
export type { SessionInfo } from './session.js'
export { openStorage, s3Options } from './storage-url.js'
export type {
  BlobGrantRequest,
  EnvelopeVerifier,
  VerifiedAuthor,
  VerifiedSnapshot,
  VerifiedUpdate,
  VerifyContext,
} from './verifier.js'
export { signWebhook, verifyWebhook, type WebhookOptions, webhookExtension } from './webhook.js'
