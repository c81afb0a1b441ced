/**
 * Compliance for Valv, all on the client: a signed, hash-chained audit trail of security events
 * with an offline verifier (also the `valv-audit` CLI). See docs/compliance.md for how each
 * obligation of a Swedish agency maps to what Valv provides.
 *
 * @packageDocumentation
 */
export {
  AUDIT_EVENT_TYPES,
  AUDIT_LIMITS,
  type AuditEvent,
  type AuditEventType,
} from './audit/events.js'
export { formatTrailFile, parseTrailFile, TRAIL_FILE_MAGIC } from './audit/file.js'
export {
  AUDIT_VERSION,
  type AuditEntry,
  type AuditHead,
  type AuditRecord,
  type AuditRecordSigner,
  decodeRecord,
  describeEntry,
  MAX_RECORD_BYTES,
  recordHash,
  ZERO_HASH,
} from './audit/record.js'
export { chainSigners, ed25519AuditSigner } from './audit/signers.js'
export { type AuditStore, AuditTrail, type AuditTrailOptions } from './audit/trail.js'
export {
  type AuditBreakCode,
  type AuditVerdict,
  type VerifyTrailOptions,
  verifyTrail,
} from './audit/verify.js'
export { ComplianceError, type ComplianceErrorCode } from './errors.js'
