import { ed25519 } from '@noble/curves/ed25519.js'
import { domainMessage, type MembershipState, toHex } from '@valv/protocol'
import type { AuditRecordSigner } from './record.js'

/**
 * An audit signer from a raw Ed25519 secret key, for services that have their own key (the
 * relay, an archive gateway, an admin tool). Devices use `documentAuditSigner` of
 * `@valv/crypto` instead, which never exposes the key.
 *
 * @example
 * ```ts
 * declare const serviceKey: Uint8Array // the service's 32-byte Ed25519 secret, from its KMS
 * const serviceSigner = ed25519AuditSigner(serviceKey)
 * const trail = await AuditTrail.open(docId)
 * await trail.append(serviceSigner, { type: 'erasure', subject: docId })
 * ```
 */
export function ed25519AuditSigner(secretKey: Uint8Array): AuditRecordSigner {
  const secret = secretKey.slice()
  return {
    publicKey: ed25519.getPublicKey(secret),
    signAudit: async (...parts) => ed25519.sign(domainMessage('audit', ...parts), secret),
  }
}

/**
 * The hex keys of every member a document's membership chain ever admitted (current and
 * removed: a removed member's old entries stay valid), plus `extra` service keys, for
 * `verifyTrail`'s `signers`.
 *
 * @example
 * ```ts
 * const state = new MembershipState(docId)
 * for (const entry of chain) state.append(entry)
 * declare const relayKey: Uint8Array // public key of the relay's `ed25519AuditSigner`
 * declare const trailFile: string // the text `AuditTrail.export` wrote
 * const signers = chainSigners(state, [relayKey])
 * const verdict = await verifyTrail(parseTrailFile(trailFile), { signers })
 * ```
 */
export function chainSigners(
  state: MembershipState,
  extra: readonly Uint8Array[] = [],
): Set<string> {
  const keys = new Set<string>()
  for (const member of state.members) keys.add(toHex(member.key))
  for (const key of extra) keys.add(toHex(key))
  return keys
}
