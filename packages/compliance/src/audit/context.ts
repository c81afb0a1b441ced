import type { AuditRecordSigner } from './record.js'
import type { AuditTrail } from './trail.js'

/** Where a compliance operation records what it did: a trail and the signer to use. */
export interface AuditContext {
  /** The document's trail. */
  readonly trail: AuditTrail
  /** Who signs the entry (usually `documentAuditSigner(session)`). */
  readonly signer: AuditRecordSigner
}
