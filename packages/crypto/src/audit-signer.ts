import { ed25519 } from '@noble/curves/ed25519.js'
import { domainMessage } from '@valv/protocol'
import { documentSigningSecret, type Identity } from './identity.js'

/**
 * Signs audit records (see `@valv/compliance`) with a device's key without handing the key out.
 * Every signature covers `domainMessage('audit', ...parts)`, a domain no envelope, membership
 * entry or certificate uses, so an audit signature can never be replayed as one of those.
 */
export interface AuditSigner {
  /** The Ed25519 public key that verifies the signatures (32 bytes). */
  readonly publicKey: Uint8Array
  /** Sign `domainMessage('audit', ...parts)`; resolves with a 64-byte Ed25519 signature. */
  signAudit(...parts: Uint8Array[]): Promise<Uint8Array>
}

/**
 * An {@link AuditSigner} with this device's per-document key for `docId`: the same key that
 * signs the device's envelopes and membership entries (`DocumentSession.author`), so an
 * auditor can tie audit records to members of the document's chain.
 *
 * @example
 * ```ts
 * const signer = documentAuditSigner(me, session.docId)
 * const trail = new AuditTrail(session.docId)
 * await trail.append(signer, { type: 'export', subject: session.author, reason: 'archive' })
 * ```
 */
export function documentAuditSigner(me: Identity, docId: string): AuditSigner {
  const secret = documentSigningSecret(me, docId)
  return {
    publicKey: ed25519.getPublicKey(secret),
    signAudit: async (...parts) => ed25519.sign(domainMessage('audit', ...parts), secret),
  }
}
