import { domainMessage, toHex, u64Bytes, utf8 } from './bytes.js'
import { CryptoError } from './errors.js'
import { decodeStamp, encodeStamp } from './member-stamp.js'
import type { ChainMember } from './membership-records.js'
import type { MembershipState } from './membership-state.js'
import { Role } from './roles.js'
import { verifyDomainAsync } from './signature.js'

/** Version byte of a blob grant. */
export const BLOB_GRANT_VERSION = 1

/**
 * What a blob grant allows: `upload` and `delete` need the document's write role, `download`
 * any current member. The number is signed, so a grant for one operation is useless for another.
 */
export const BlobOp = { upload: 1, download: 2, delete: 3 } as const

/** Name of a {@link BlobOp}. */
export type BlobOpName = keyof typeof BlobOp

/**
 * What a grant is bound to: the operation, the blob, its declared ciphertext size (0 for
 * downloads, deletes and uploads of unknown length) and the relay session it is sent on, so a
 * grant cannot be replayed on another connection.
 */
export interface BlobGrantFields {
  /** The operation allowed. */
  readonly op: BlobOpName
  /** The blob's id (keyed hash, base64url). */
  readonly blobId: string
  /** Declared ciphertext bytes (0 = not stated). */
  readonly size: number
  /** The relay's session id from `auth-ok`. */
  readonly sessionId: string
}

/** The signed parts of a grant, after the domain `blob-grant` (see docs/protocol.md). */
function grantParts(docId: string, f: BlobGrantFields): Uint8Array[] {
  return [
    utf8(docId),
    Uint8Array.of(BlobOp[f.op]),
    utf8(f.blobId),
    u64Bytes(f.size),
    utf8(f.sessionId),
  ]
}

/** The bytes a grant's signature covers (domain `blob-grant`, the document id bound in). */
export function blobGrantMessage(docId: string, f: BlobGrantFields): Uint8Array {
  return domainMessage('blob-grant', ...grantParts(docId, f))
}

/**
 * Encode a grant: `version u8 ‖ author varuint ‖ signature(64)`, the signature by the member's
 * per-document key over {@link blobGrantMessage}.
 */
export function encodeBlobGrant(author: number, signature: Uint8Array): Uint8Array {
  return encodeStamp(BLOB_GRANT_VERSION, author, [], signature)
}

/** A grant whose signature and signer's current role were checked. */
export interface VerifiedBlobGrant {
  /** Chain index of the signer. */
  readonly author: number
  /** Hex of the signer's per-document key. */
  readonly authorId: string
  /** The signer as the chain knows it. */
  readonly member: ChainMember
}

/**
 * Check a blob grant against the membership chain: it decodes, its signer is a current member
 * whose role allows `fields.op` now, and the signature covers exactly `fields`. Needs no key, so
 * the relay runs it. Throws `malformed`, `unsupported-version`, `not-authorised` or
 * `bad-signature`.
 *
 * @example
 * ```ts
 * const state = new MembershipState(docId)
 * for (const entry of chain) state.append(entry)
 * // The member signs for one upload on its relay session; the relay checks before storing.
 * const fields = { op: 'upload', blobId: 'Qm3v…', size: 4096, sessionId: 's-81f2' } as const
 * const grant = await session.signBlobGrant(fields)
 * const { authorId } = await verifyBlobGrant(state, grant, fields)
 * ```
 */
export async function verifyBlobGrant(
  state: MembershipState,
  grant: Uint8Array,
  fields: BlobGrantFields,
): Promise<VerifiedBlobGrant> {
  const { author, signature } = decodeStamp(grant, BLOB_GRANT_VERSION, 0, 'blob grant')
  const member = state.member(author)
  if (member === undefined) throw new CryptoError('not-authorised', 'signer is not a member')
  const needed = fields.op === 'download' ? Role.Viewer : state.writeRole
  if (member.role < Math.max(needed, Role.Viewer)) {
    throw new CryptoError('not-authorised', `role does not allow blob ${fields.op}`)
  }
  const parts = grantParts(state.docId, fields)
  if (!(await verifyDomainAsync('blob-grant', member.key, signature, ...parts))) {
    throw new CryptoError('bad-signature', 'blob grant signature does not verify')
  }
  return { author, authorId: toHex(member.key), member }
}
