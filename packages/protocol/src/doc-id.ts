import { domainHash, toBase64Url } from './bytes.js'

/**
 * The self-certifying id of a document: base64url of a domain-separated SHA-256 of the
 * creator's per-document key and the genesis nonce. The genesis entry carries both, so a relay
 * cannot substitute another genesis for a document id (it would need a second preimage).
 *
 * @example
 * ```ts
 * declare const creatorKey: Uint8Array // the creator's public signing key
 * const nonce = crypto.getRandomValues(new Uint8Array(32))
 * const docId = deriveDocId(creatorKey, nonce) // 43 characters, [A-Za-z0-9_-]
 * ```
 */
export function deriveDocId(creatorKey: Uint8Array, nonce: Uint8Array): string {
  return toBase64Url(domainHash('doc-id', creatorKey, nonce))
}
