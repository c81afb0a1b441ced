import { CryptoError } from '@valv/protocol'
import type { DocumentSession } from './session.js'
import { signingPort } from './signing-port.js'

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
 * An {@link AuditSigner} with the session's per-document key: the key that signs this device's
 * envelopes and membership entries (`DocumentSession.author`), so an auditor can tie audit
 * records to members of the document's chain. Throws `invalid-state` for a recovery session.
 *
 * @example
 * ```ts
 * const signer = documentAuditSigner(session)
 * const trail = await AuditTrail.open(session.docId)
 * await trail.append(signer, { type: 'export', details: { format: 'odt' } })
 * ```
 */
export function documentAuditSigner(session: DocumentSession): AuditSigner {
  const port = signingPort(session)
  const publicKey = port.publicKey
  if (publicKey === undefined) {
    throw new CryptoError('invalid-state', 'this session has no signing key (recovery session)')
  }
  return {
    publicKey,
    // Bound to the key it reported: a record must verify under `publicKey`.
    signAudit: (...parts) => port.sign({ purpose: 'audit', parts }, publicKey),
  }
}
