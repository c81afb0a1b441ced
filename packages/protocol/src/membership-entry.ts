import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { CryptoError } from './errors.js'
import { isRole, type Role } from './roles.js'

/**
 * Version byte of the membership entries this code writes. 2 since protocol v1.1: integers
 * inside the inputs the chain defines (admission signature, payload associated data, epoch-key
 * salt) are u64 big-endian instead of decimal text. 3 since protocol v1.2: the payload's
 * invitee boxes carry a recipient hint (docs/protocol.md, change log). Version 2 entries are
 * still read (see {@link readableMembershipVersion}).
 */
export const MEMBERSHIP_VERSION = 3

/**
 * Whether entries of membership version `version` are read: 2 (payload without recipient
 * hints) and 3. The public layout of both is the same; only the client payload differs.
 */
export function readableMembershipVersion(version: number): boolean {
  return version === 2 || version === 3
}

/** How new members see history: all old epoch keys, or only the current epoch's. */
export const HistoryPolicy = {
  /** New members receive every earlier content key and read the whole history. */
  share: 0,
  /** New members receive only the current content key (need-to-know). */
  needToKnow: 1,
} as const

/** One of the {@link HistoryPolicy} values. */
export type HistoryPolicy = (typeof HistoryPolicy)[keyof typeof HistoryPolicy]

/** The kind-specific public part of a membership entry. */
export type EntryBody =
  | {
      /** Creates the document; index 0; the signer becomes member 0 with the admin role. */
      readonly kind: 'genesis'
      /** Randomness that, with the creator's key, derives the document id. */
      readonly nonce: Uint8Array
      /** Default cipher suite of the document. */
      readonly suite: number
      /** Lowest role that may write updates and snapshots (`Editor`, or `Commenter`). */
      readonly writeRole: Role
      /** Whether new members get old epoch keys. */
      readonly historyPolicy: HistoryPolicy
      /** Commitment to epoch 0's key material. */
      readonly keyCommitment: Uint8Array
    }
  | {
      /** An admin creates an admission: whoever holds its secret may join with `role`. */
      readonly kind: 'admit'
      /** Ed25519 public key of the admission. */
      readonly admissionKey: Uint8Array
      /** Role granted on joining. */
      readonly role: Role
      /** Unix seconds after which joins are refused; 0 = never. */
      readonly expiresAt: number
      /** Number of joins allowed; 0 = unlimited. */
      readonly maxUses: number
    }
  | {
      /** A new member's per-document key joins through an admission. */
      readonly kind: 'join'
      /** Chain index of the admit entry used. */
      readonly admission: number
      /** The admission key's signature over the joining key (see docs/protocol.md). */
      readonly admissionSignature: Uint8Array
    }
  | {
      /** An admin changes a member's role; `Role.None` removes the member. */
      readonly kind: 'set-role'
      /** Chain index of the member's genesis or join entry. */
      readonly member: number
      /** The new role. */
      readonly role: Role
      /**
       * When the change takes away the write role: the member's highest content counter that
       * stays valid (its edits up to the change). Later counters from it are refused. Default 0.
       */
      readonly until?: number
    }
  | {
      /** An admin starts a new key epoch (after a removal, or at will). */
      readonly kind: 'rotate'
      /** The new epoch number: the current epoch plus one. */
      readonly epoch: number
      /** Commitment to the new epoch's key material. */
      readonly keyCommitment: Uint8Array
    }
  | {
      /** An admin revokes an admission (an invite link): no more joins through it. */
      readonly kind: 'revoke-admission'
      /** Chain index of the admit entry. */
      readonly admission: number
    }

/** Kind name of a membership entry. */
export type EntryKind = EntryBody['kind']

const KINDS: readonly EntryKind[] = [
  'genesis',
  'admit',
  'join',
  'set-role',
  'rotate',
  'revoke-admission',
]

/** The fields every entry carries, plus its body and opaque client payload. */
export interface EntryFields {
  /**
   * Membership version byte: decoded entries carry theirs; when encoding, default
   * {@link MEMBERSHIP_VERSION} (an older readable version only to write test chains).
   */
  readonly version?: number
  /** Position in the chain (0 = genesis). */
  readonly index: number
  /** Chain hash of the previous entry (32 zero bytes for genesis). */
  readonly prev: Uint8Array
  /** Unix seconds the signer claims it signed at. */
  readonly at: number
  /** Signer's per-document Ed25519 public key. */
  readonly signer: Uint8Array
  /** The kind-specific public part. */
  readonly body: EntryBody
  /**
   * Client data the relay cannot read: sealed key boxes, encrypted member certificates. Its
   * structure is defined by `@valv/crypto`; the signature covers it.
   */
  readonly payload: Uint8Array
}

/** A decoded entry with its signature and the exact signed bytes. */
export interface MembershipEntry extends EntryFields {
  /** The encoded entry without the signature. */
  readonly signed: Uint8Array
  /** Ed25519 signature of `signer`. */
  readonly signature: Uint8Array
}

const key32 = (dec: decoding.Decoder): Uint8Array => decoding.readUint8Array(dec, 32).slice()

function readRole(dec: decoding.Decoder): Role {
  const n = decoding.readUint8(dec)
  if (!isRole(n)) throw new Error('bad role')
  return n
}

function readUint(dec: decoding.Decoder): number {
  const n = decoding.readVarUint(dec)
  if (!Number.isSafeInteger(n)) throw new Error('varuint out of range')
  return n
}

/** Encode an entry's signed part (everything but the signature). */
export function encodeEntryFields(e: EntryFields): Uint8Array {
  if (e.prev.length !== 32 || e.signer.length !== 32) {
    throw new CryptoError('malformed', 'prev and signer must be 32 bytes')
  }
  const version = e.version ?? MEMBERSHIP_VERSION
  if (!readableMembershipVersion(version)) {
    throw new CryptoError('unsupported-version', `membership version ${version} not supported`)
  }
  const enc = encoding.createEncoder()
  encoding.writeUint8(enc, version)
  encoding.writeUint8(enc, KINDS.indexOf(e.body.kind) + 1)
  encoding.writeVarUint(enc, e.index)
  encoding.writeUint8Array(enc, e.prev)
  encoding.writeVarUint(enc, e.at)
  encoding.writeUint8Array(enc, e.signer)
  const b = e.body
  switch (b.kind) {
    case 'genesis':
      if (b.nonce.length !== 16 || b.keyCommitment.length !== 32) {
        throw new CryptoError('malformed', 'bad genesis field length')
      }
      encoding.writeUint8Array(enc, b.nonce)
      encoding.writeUint8(enc, b.suite)
      encoding.writeUint8(enc, b.writeRole)
      encoding.writeUint8(enc, b.historyPolicy)
      encoding.writeUint8Array(enc, b.keyCommitment)
      break
    case 'admit':
      if (b.admissionKey.length !== 32) throw new CryptoError('malformed', 'bad admission key')
      encoding.writeUint8Array(enc, b.admissionKey)
      encoding.writeUint8(enc, b.role)
      encoding.writeVarUint(enc, b.expiresAt)
      encoding.writeVarUint(enc, b.maxUses)
      break
    case 'join':
      if (b.admissionSignature.length !== 64) throw new CryptoError('malformed', 'bad signature')
      encoding.writeVarUint(enc, b.admission)
      encoding.writeUint8Array(enc, b.admissionSignature)
      break
    case 'set-role':
      encoding.writeVarUint(enc, b.member)
      encoding.writeUint8(enc, b.role)
      encoding.writeVarUint(enc, b.until ?? 0)
      break
    case 'rotate':
      if (b.keyCommitment.length !== 32) throw new CryptoError('malformed', 'bad commitment')
      encoding.writeVarUint(enc, b.epoch)
      encoding.writeUint8Array(enc, b.keyCommitment)
      break
    case 'revoke-admission':
      encoding.writeVarUint(enc, b.admission)
      break
  }
  encoding.writeVarUint8Array(enc, e.payload)
  return encoding.toUint8Array(enc)
}

function readBody(kind: EntryKind, dec: decoding.Decoder): EntryBody {
  switch (kind) {
    case 'genesis': {
      const nonce = decoding.readUint8Array(dec, 16).slice()
      const suite = decoding.readUint8(dec)
      const writeRole = readRole(dec)
      const policy = decoding.readUint8(dec)
      if (policy !== 0 && policy !== 1) throw new Error('bad history policy')
      return { kind, nonce, suite, writeRole, historyPolicy: policy, keyCommitment: key32(dec) }
    }
    case 'admit': {
      const admissionKey = key32(dec)
      const role = readRole(dec)
      return { kind, admissionKey, role, expiresAt: readUint(dec), maxUses: readUint(dec) }
    }
    case 'join': {
      const admission = readUint(dec)
      return { kind, admission, admissionSignature: decoding.readUint8Array(dec, 64).slice() }
    }
    case 'set-role':
      return { kind, member: readUint(dec), role: readRole(dec), until: readUint(dec) }
    case 'rotate':
      return { kind, epoch: readUint(dec), keyCommitment: key32(dec) }
    case 'revoke-admission':
      return { kind, admission: readUint(dec) }
  }
}

/**
 * Decode a membership entry without verifying it. Throws `malformed` or `unsupported-version`.
 */
export function decodeEntry(bytes: Uint8Array): MembershipEntry {
  if (bytes.length < 2 + 32 + 32 + 64) throw new CryptoError('malformed', 'entry too short')
  const version = bytes[0] as number
  if (!readableMembershipVersion(version)) {
    throw new CryptoError('unsupported-version', `membership version ${bytes[0]} not supported`)
  }
  // Copies, so no length field can read past the signed part into the signature.
  const signed = bytes.slice(0, bytes.length - 64)
  const signature = bytes.slice(bytes.length - 64)
  try {
    const dec = decoding.createDecoder(signed)
    decoding.readUint8(dec)
    const kind = KINDS[decoding.readUint8(dec) - 1]
    if (kind === undefined) throw new Error('unknown entry kind')
    const index = readUint(dec)
    const prev = key32(dec)
    const at = readUint(dec)
    const signer = key32(dec)
    const body = readBody(kind, dec)
    const payload = decoding.readVarUint8Array(dec).slice()
    if (dec.pos !== signed.length) throw new Error('trailing bytes')
    return { version, index, prev, at, signer, body, payload, signed, signature }
  } catch (cause) {
    throw new CryptoError('malformed', 'membership entry does not decode', { cause })
  }
}
