/**
 * Compliance for Valv, all on the client: a signed, hash-chained audit trail of security events
 * with an offline verifier (also the `valv-audit` CLI); classification and secrecy marking kept
 * inside the encrypted document, and the policy derived from it; retention, legal hold and
 * erasure with crypto-shredding and a signed receipt (and an IndexedDB scrub for browser devices);
 * OpenDocument export (ODT, ODS, ODP) and an E-ARK/FGS-structured archive package, carrying
 * the marking; a recovery-key opener and a join watcher that record themselves in the trail.
 * See docs/compliance.md for how each obligation of a Swedish agency maps to what Valv
 * provides.
 *
 * @packageDocumentation
 */
export { AuditedSession, recoverAudited } from './audit/audited-session.js'
export type { AuditContext } from './audit/context.js'
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
  checkSignature,
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
export {
  authorizeExport,
  createPolicyLink,
  type ExportRequest,
  type LinkIssuer,
} from './classification/guards.js'
export {
  checkMarking,
  type Marking,
  readMarking,
  type SecrecyMarking,
  setMarking,
} from './classification/marking.js'
export {
  assertAllowed,
  type Policy,
  type PolicyAction,
  policyFor,
  strictest,
} from './classification/policy.js'
export {
  type ClassificationScheme,
  defineScheme,
  type ExportRule,
  KRT_SCHEME,
  type LevelDefinition,
  type LevelRules,
  levelOf,
} from './classification/scheme.js'
export { ComplianceError, type ComplianceErrorCode } from './errors.js'
export { COMPLIANCE_MAP, complianceMap } from './meta.js'
export { type ArchiveFile, type ArchivePackageInput, archivePackage } from './odf/archive.js'
export { type OdpExportOptions, presentationToOdp } from './odf/odp.js'
export { toOpenFormula, workbookToOds } from './odf/ods.js'
export { richTextToOdt } from './odf/odt.js'
export { markingLine, type OdfExportOptions } from './odf/package.js'
export { type EraseAuthority, type EraseRequest, eraseDocument } from './retention/erase.js'
export {
  checkRetention,
  type ErasureStatus,
  erasureStatus,
  type LegalHold,
  placeHold,
  type RetentionPolicy,
  readRetention,
  releaseHold,
  setRetention,
} from './retention/policy.js'
export {
  type ErasureReceipt,
  formatReceipt,
  parseReceipt,
  receiptOf,
  verifyErasureReceipt,
} from './retention/receipt.js'
export { type ScrubIndexedDBOptions, scrubIndexedDB } from './retention/scrub-indexeddb.js'
