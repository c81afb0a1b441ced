import { CryptoError, type EraseRequestFields, encodeEraseRequest, Role } from '@valv/protocol'
import type { DocumentSession } from './session.js'
import { signingPort } from './signing-port.js'

/**
 * Sign an erase request for the relay (the `erase` frame; see docs/protocol.md, "Erasure on
 * the relay") with the session's per-document key. Only an admin's request is honoured; this
 * refuses early with `invalid-state` for anyone else, or for a recovery session (no key).
 * `fields.sessionId` is the relay session (`auth-ok`) the request will be sent on, and
 * `fields.chainLength` the number of membership entries the session has verified.
 *
 * @example
 * ```ts
 * const request = await signEraseRequest(session, {
 *   sessionId: provider.sessionId as string, // the relay connection it is sent on
 *   chainLength: session.membershipLength(),
 * })
 * ```
 */
export async function signEraseRequest(
  session: DocumentSession,
  fields: EraseRequestFields,
): Promise<Uint8Array> {
  const port = signingPort(session)
  const author = session.myIndex
  if (port.publicKey === undefined || author === undefined) {
    throw new CryptoError('invalid-state', 'not a member of this document')
  }
  if (session.role < Role.Admin) throw new CryptoError('invalid-state', 'only admins may erase')
  const signature = await port.sign({ purpose: 'erase', fields })
  return encodeEraseRequest(author, fields.chainLength, signature)
}
