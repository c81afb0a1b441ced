/**
 * The Valv wire formats and their public verification: envelopes, membership chains, counters.
 * Nothing here needs or touches a content key, so a relay may import it. The byte layouts and
 * every rule are specified in docs/protocol.md.
 *
 * @packageDocumentation
 */

export {
  AUDIT_EVENT_PATTERN,
  AUDIT_LIMITS,
  AUDIT_VERSION,
  AUDIT_ZERO_HASH,
  type AuditEntry,
  type AuditEvent,
  type AuditHead,
  type AuditRecord,
  type AuditRecordSigner,
  auditRecordHash,
  checkAuditEvent,
  checkAuditSignature,
  decodeAuditRecord,
  MAX_AUDIT_RECORD_BYTES,
  signAuditEntry,
  signAuditHead,
} from './audit-record.js'
export {
  BLOB_GRANT_VERSION,
  type BlobGrantFields,
  BlobOp,
  type BlobOpName,
  blobGrantMessage,
  encodeBlobGrant,
  type VerifiedBlobGrant,
  verifyBlobGrant,
} from './blob-grant.js'
export {
  domainHash,
  domainMessage,
  equalBytes,
  fromBase64Url,
  toBase64Url,
  toHex,
  u64Bytes,
  utf8,
} from './bytes.js'
export { CounterWindow } from './counter-window.js'
export { deriveDocId } from './doc-id.js'
export { ed25519Native, ed25519Signer, ed25519Verify } from './ed25519-fast.js'
export { ed25519Encodings, ed25519SignedAnyway, ed25519VerifyStrict } from './ed25519-rule.js'
export {
  decodeEnvelope,
  ENVELOPE_VERSION,
  type Envelope,
  type EnvelopeHeader,
  EnvelopeKind,
  type EnvelopeKindName,
  encodeEnvelopeBody,
  encodeEnvelopeHeader,
  joinSignature,
  SIGNATURE_LENGTH,
  type SnapshotHeader,
} from './envelope.js'
export {
  ERASE_REQUEST_VERSION,
  type EraseRequestFields,
  encodeEraseRequest,
  eraseRequestMessage,
  type VerifiedEraseRequest,
  verifyEraseRequest,
} from './erase-request.js'
export { CryptoError, type CryptoErrorCode } from './errors.js'
export {
  decodeEntry,
  type EntryBody,
  type EntryFields,
  type EntryKind,
  encodeEntryFields,
  HistoryPolicy,
  MEMBERSHIP_VERSION,
  type MembershipEntry,
  readableMembershipVersion,
} from './membership-entry.js'
export {
  admissionUsable,
  type ChainAdmission,
  type ChainMember,
} from './membership-records.js'
export { type AppendOptions, entryHash, MembershipState } from './membership-state.js'
export { isRole, Role, roleName } from './roles.js'
export { verifyDomain, verifyDomainAsync } from './signature.js'
export {
  CONFIRMATION_VERSION,
  confirmationMessage,
  encodeConfirmation,
  NO_SNAPSHOT,
  snapshotId,
  type VerifiedConfirmation,
  verifyConfirmation,
} from './snapshot.js'
export {
  requiredRole,
  type VerifiedEnvelope,
  type VerifyEnvelopeOptions,
  verifyEnvelope,
  verifyEnvelopeAsync,
} from './verify-envelope.js'
