import {
  CryptoError,
  domainMessage,
  type EraseRequestFields,
  equalBytes,
  eraseRequestMessage,
} from '@valv/protocol'
import type { DocumentKey } from './document-key.js'

/**
 * What code outside the session may have signed with a session's per-document key. Each
 * purpose puts its bytes in its own domain (`audit`, `erase-request`), one that no envelope,
 * membership entry, grant or confirmation uses, so the port cannot produce any of those.
 */
export type PortRequest =
  | { readonly purpose: 'audit'; readonly parts: readonly Uint8Array[] }
  | { readonly purpose: 'erase'; readonly fields: EraseRequestFields }

/**
 * The narrow signing access the rest of this package (`documentAuditSigner`,
 * `signEraseRequest`) has to a session: signatures by purpose, never the secret.
 */
export interface SigningPort {
  /** The key's public key now, or `undefined` for a recovery session. */
  readonly publicKey: Uint8Array | undefined
  /**
   * Sign `request` in its domain. With `expected`, refuses (`invalid-state`) if the session's
   * key is no longer that one (a creator's session switches to its genesis key on load).
   */
  sign(request: PortRequest, expected?: Uint8Array): Promise<Uint8Array>
}

// Keyed by the session object, so only code that holds the session (and imports this module,
// which index.ts does not export) reaches its port: no cast, no public method.
const ports = new WeakMap<object, SigningPort>()

/** Give `session` (of document `docId`) a port onto `key`; called once by its constructor. */
export function openSigningPort(session: object, docId: string, key: DocumentKey): void {
  ports.set(session, {
    get publicKey() {
      return key.publicKey
    },
    async sign(request, expected) {
      const now = key.publicKey
      if (now === undefined)
        throw new CryptoError('invalid-state', 'this session has no signing key')
      if (expected !== undefined && !equalBytes(now, expected))
        throw new CryptoError('invalid-state', 'the session changed its signing key')
      const message =
        request.purpose === 'audit'
          ? domainMessage('audit', ...request.parts)
          : eraseRequestMessage(docId, request.fields)
      return key.sign(message)
    },
  })
}

/** The port of `session`; `invalid-state` if it is not a `DocumentSession`. */
export function signingPort(session: object): SigningPort {
  const port = ports.get(session)
  if (port === undefined) throw new CryptoError('invalid-state', 'not a document session')
  return port
}
