import { domainMessage, toHex, u64Bytes, utf8 } from './bytes.js'
import { CryptoError } from './errors.js'
import { decodeStamp, encodeStamp } from './member-stamp.js'
import type { ChainMember } from './membership-records.js'
import type { MembershipState } from './membership-state.js'
import { Role } from './roles.js'
import { verifyDomainAsync } from './signature.js'

/** Version byte of an erase request. */
export const ERASE_REQUEST_VERSION = 1

/**
 * What an erase request is bound to besides the document: the relay session it is sent on (so
 * it cannot be replayed on another connection, or on another relay) and the length of the
 * membership chain the admin saw (so it is void once the chain has moved on, e.g. after the
 * admin was demoted and promoted again).
 */
export interface EraseRequestFields {
  /** The relay's session id from `auth-ok`. */
  readonly sessionId: string
  /** Number of entries in the membership chain when the request was signed. */
  readonly chainLength: number
}

function eraseParts(docId: string, f: EraseRequestFields): Uint8Array[] {
  return [utf8(docId), u64Bytes(f.chainLength), utf8(f.sessionId)]
}

/** The bytes an erase request's signature covers (domain `erase-request`). */
export function eraseRequestMessage(docId: string, f: EraseRequestFields): Uint8Array {
  return domainMessage('erase-request', ...eraseParts(docId, f))
}

/**
 * Encode an erase request: `version u8 ‖ author varuint ‖ chainLength varuint ‖
 * signature(64)`, the signature by an admin's per-document key over
 * {@link eraseRequestMessage}.
 */
export function encodeEraseRequest(
  author: number,
  chainLength: number,
  signature: Uint8Array,
): Uint8Array {
  return encodeStamp(ERASE_REQUEST_VERSION, author, [chainLength], signature)
}

/** An erase request whose signature, signer role and binding were checked. */
export interface VerifiedEraseRequest {
  /** Chain index of the signing admin. */
  readonly author: number
  /** Hex of the admin's per-document key. */
  readonly authorId: string
  /** The admin as the chain knows it. */
  readonly member: ChainMember
}

/**
 * Check an erase request against the membership chain: it decodes, its signer is a current
 * admin, the chain still has the number of entries the request names, and the signature covers
 * exactly this document, that length and `sessionId` (the connection it arrived on). Needs no key, so the relay runs it. Throws `malformed`,
 * `unsupported-version`, `not-authorised`, `replay` (the chain moved on) or `bad-signature`.
 *
 * @example
 * ```ts
 * const state = new MembershipState(docId)
 * for (const entry of chain) state.append(entry)
 * const fields = { sessionId: 's-81f2', chainLength: state.length }
 * const request = await signEraseRequest(session, fields) // `@valv/crypto`
 * const { authorId } = await verifyEraseRequest(state, request, fields.sessionId)
 * ```
 */
export async function verifyEraseRequest(
  state: MembershipState,
  request: Uint8Array,
  sessionId: string,
): Promise<VerifiedEraseRequest> {
  const stamp = decodeStamp(request, ERASE_REQUEST_VERSION, 1, 'erase request')
  const { author, signature } = stamp
  const chainLength = stamp.numbers[0] as number
  const member = state.member(author)
  if (member === undefined) throw new CryptoError('not-authorised', 'signer is not a member')
  if (member.role < Role.Admin) throw new CryptoError('not-authorised', 'only admins may erase')
  if (chainLength !== state.length) {
    throw new CryptoError('replay', 'erase request was signed for another chain state')
  }
  const parts = eraseParts(state.docId, { sessionId, chainLength })
  if (!(await verifyDomainAsync('erase-request', member.key, signature, ...parts))) {
    throw new CryptoError('bad-signature', 'erase request signature does not verify')
  }
  return { author, authorId: toHex(member.key), member }
}
