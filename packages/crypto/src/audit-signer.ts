import { ed25519 } from '@noble/curves/ed25519.js'
import { CryptoError, domainMessage } from '@valv/protocol'
import type { DocumentSession } from './session.js'

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

// Package-internal access to the session's signing secret, so session.ts need not grow an API
// that hands the key out: the creator's key is derived from the genesis nonce, a joiner's from
// the document id, and only the session knows which.
function secretOf(session: DocumentSession): Uint8Array {
  const secret = (session as unknown as { signingSecret?: Uint8Array }).signingSecret
  if (secret === undefined) {
    throw new CryptoError('invalid-state', 'this session has no signing key (recovery session)')
  }
  return secret
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
  const publicKey = ed25519.getPublicKey(secretOf(session))
  return {
    publicKey,
    signAudit: async (...parts) => {
      const secret = secretOf(session)
      if (!ed25519.getPublicKey(secret).every((b, i) => b === publicKey[i])) {
        throw new CryptoError('invalid-state', 'the session changed its signing key')
      }
      return ed25519.sign(domainMessage('audit', ...parts), secret)
    },
  }
}
