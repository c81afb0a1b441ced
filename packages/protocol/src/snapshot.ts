import { domainHash, domainMessage, toHex, utf8 } from './bytes.js'
import { CryptoError } from './errors.js'
import { decodeStamp, encodeStamp } from './member-stamp.js'
import type { ChainMember } from './membership-records.js'
import type { MembershipState } from './membership-state.js'
import { verifyDomainAsync } from './signature.js'

/** Version byte of a snapshot confirmation. */
export const CONFIRMATION_VERSION = 1

/** The id of no snapshot (the `prev` of a document's first snapshot). */
export const NO_SNAPSHOT = new Uint8Array(32)

/**
 * A snapshot's id: `SHA-256(domain "snapshot-id", docId, sealed envelope)`. Epoch keys are
 * committed in the chain, so the id also pins the plaintext. Snapshot headers name their
 * predecessor by id, which makes the snapshots of a document one hash chain.
 */
export function snapshotId(docId: string, sealed: Uint8Array): Uint8Array {
  return domainHash('snapshot-id', utf8(docId), sealed)
}

/** The bytes a confirmation's signature covers. */
export function confirmationMessage(docId: string, id: Uint8Array): Uint8Array {
  return domainMessage('snapshot-confirm', utf8(docId), id)
}

/**
 * Encode a confirmation: `version u8 ‖ author varuint ‖ signature(64)`, the signature by the
 * confirming writer's per-document key over {@link confirmationMessage}.
 */
export function encodeConfirmation(author: number, signature: Uint8Array): Uint8Array {
  return encodeStamp(CONFIRMATION_VERSION, author, [], signature)
}

/** A confirmation whose signature and signer were checked. */
export interface VerifiedConfirmation {
  /** Chain index of the confirming member. */
  readonly author: number
  /** Hex of its per-document key. */
  readonly authorId: string
  /** The member as the chain knows it. */
  readonly member: ChainMember
}

/**
 * Check that `bytes` confirms snapshot `id`: it decodes, its signer is a member whose role
 * writes (or, with `formerWriters`, wrote) content, and the signature verifies. Throws
 * `malformed`, `unsupported-version`, `not-authorised` or `bad-signature`. That the signer is
 * not the snapshot's author is the caller's check.
 */
export async function verifyConfirmation(
  state: MembershipState,
  bytes: Uint8Array,
  id: Uint8Array,
  options: { readonly formerWriters?: boolean } = {},
): Promise<VerifiedConfirmation> {
  const { author, signature } = decodeStamp(bytes, CONFIRMATION_VERSION, 0, 'confirmation')
  const member = state.member(author)
  if (member === undefined) throw new CryptoError('not-authorised', 'signer is not a member')
  const writes = member.role >= state.writeRole
  if (!writes && !(options.formerWriters === true && member.wroteUntil !== undefined)) {
    throw new CryptoError('not-authorised', 'only writers confirm snapshots')
  }
  if (
    !(await verifyDomainAsync('snapshot-confirm', member.key, signature, utf8(state.docId), id))
  ) {
    throw new CryptoError('bad-signature', 'confirmation signature does not verify')
  }
  return { author, authorId: toHex(member.key), member }
}
