import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { CryptoError } from './errors.js'

/** Version byte of the envelope format described in docs/protocol.md. */
export const ENVELOPE_VERSION = 1

/** Length of the Ed25519 signature that ends every envelope. */
export const SIGNATURE_LENGTH = 64

/**
 * What an envelope carries, bound into its header (so into the AEAD and the signature): an
 * update can never be replayed as a snapshot or as presence.
 */
export const EnvelopeKind = {
  /** A batch of Yjs updates sent to the relay. */
  update: 1,
  /**
   * A full document state for compaction, with a signed {@link SnapshotHeader} after the
   * counter. Kind 2 (snapshots without that header) is retired and refused as unknown.
   */
  snapshot: 6,
  /** Awareness and signed heads. */
  presence: 3,
  /** A state diff exchanged between tabs, never stored by a relay. */
  state: 4,
  /** A member's own signed checkpoint in its local storage. */
  checkpoint: 5,
} as const

/** Name of an envelope kind. */
export type EnvelopeKindName = keyof typeof EnvelopeKind

const KIND_NAMES = Object.fromEntries(
  Object.entries(EnvelopeKind).map(([name, n]) => [n, name]),
) as Record<number, EnvelopeKindName>

/**
 * The public, signed position of a snapshot envelope: what it covers and what it replaces. The
 * relay checks it (freshness, compare-and-swap) without any key; see docs/protocol.md,
 * "Snapshots".
 */
export interface SnapshotHeader {
  /** Last relay sequence number the snapshot covers. */
  readonly upToSeq: number
  /** `upToSeq` of the snapshot it replaces (0 = none). */
  readonly prevSeq: number
  /** Id (`snapshotId`) of the snapshot it replaces; 32 zero bytes = none. */
  readonly prev: Uint8Array
}

/** The public fields of an envelope, everything but ciphertext and signature. */
export interface EnvelopeHeader {
  /** Cipher suite of the ciphertext (see docs/protocol.md). */
  readonly suite: number
  /** What the envelope carries. */
  readonly kind: EnvelopeKindName
  /** Key epoch the ciphertext is encrypted under. */
  readonly epoch: number
  /** Chain index of the author's membership entry (genesis or join). */
  readonly author: number
  /** The author's counter for this document; strictly increasing per author and kind stream. */
  readonly counter: number
  /** Present exactly when `kind` is `snapshot`. */
  readonly snapshot?: SnapshotHeader
}

/** A decoded envelope. `signed` is the exact byte range the signature covers (minus domain). */
export interface Envelope extends EnvelopeHeader {
  /** Header bytes, bound as AEAD associated data. */
  readonly headerBytes: Uint8Array
  /** Nonce, ciphertext and tag as produced by the suite's AEAD. */
  readonly ciphertext: Uint8Array
  /** Everything before the signature. */
  readonly signed: Uint8Array
  /** Ed25519 signature of the author's per-document key. */
  readonly signature: Uint8Array
}

/** Encode the header fields (the AEAD's associated data, together with the document id). */
export function encodeEnvelopeHeader(h: EnvelopeHeader): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeUint8(enc, ENVELOPE_VERSION)
  encoding.writeUint8(enc, h.suite)
  encoding.writeUint8(enc, EnvelopeKind[h.kind])
  encoding.writeVarUint(enc, h.epoch)
  encoding.writeVarUint(enc, h.author)
  encoding.writeVarUint(enc, h.counter)
  if (h.kind === 'snapshot') {
    const sh = h.snapshot
    if (sh === undefined || sh.prev.length !== 32 || !(sh.upToSeq > sh.prevSeq)) {
      throw new CryptoError('malformed', 'a snapshot needs a header with upToSeq > prevSeq')
    }
    encoding.writeVarUint(enc, sh.upToSeq)
    encoding.writeVarUint(enc, sh.prevSeq)
    encoding.writeUint8Array(enc, sh.prev)
  }
  return encoding.toUint8Array(enc)
}

/** Append the ciphertext to an encoded header: the bytes the author then signs. */
export function encodeEnvelopeBody(headerBytes: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeUint8Array(enc, headerBytes)
  encoding.writeVarUint8Array(enc, ciphertext)
  return encoding.toUint8Array(enc)
}

/** Join signed bytes and signature into the final envelope. */
export function joinSignature(signed: Uint8Array, signature: Uint8Array): Uint8Array {
  const out = new Uint8Array(signed.length + signature.length)
  out.set(signed)
  out.set(signature, signed.length)
  return out
}

function readSafeVarUint(dec: decoding.Decoder): number {
  const n = decoding.readVarUint(dec)
  if (!Number.isSafeInteger(n)) throw new Error('varuint out of range')
  return n
}

/**
 * Decode an envelope without any cryptography. Throws `malformed` or `unsupported-version`;
 * nothing about the bytes is trusted until {@link verifyEnvelope} accepted them.
 */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  if (bytes.length < 3 + SIGNATURE_LENGTH) throw new CryptoError('malformed', 'envelope too short')
  if (bytes[0] !== ENVELOPE_VERSION) {
    throw new CryptoError('unsupported-version', `envelope version ${bytes[0]} is not supported`)
  }
  const signedLength = bytes.length - SIGNATURE_LENGTH
  // A copy, so a length field can never read past `signed` into the signature's buffer.
  const signed = bytes.slice(0, signedLength)
  try {
    const dec = decoding.createDecoder(signed)
    decoding.readUint8(dec)
    const suite = decoding.readUint8(dec)
    const kind = KIND_NAMES[decoding.readUint8(dec)]
    if (kind === undefined) throw new Error('unknown kind')
    const epoch = readSafeVarUint(dec)
    const author = readSafeVarUint(dec)
    const counter = readSafeVarUint(dec)
    const snapshot = kind === 'snapshot' ? readSnapshotHeader(dec) : undefined
    const headerBytes = signed.subarray(0, dec.pos)
    const ciphertext = decoding.readVarUint8Array(dec)
    if (dec.pos !== signed.length) throw new Error('trailing bytes')
    const signature = bytes.slice(signedLength)
    const env = { suite, kind, epoch, author, counter, headerBytes, ciphertext, signed, signature }
    return snapshot === undefined ? env : { ...env, snapshot }
  } catch (cause) {
    throw new CryptoError('malformed', 'envelope does not decode', { cause })
  }
}

function readSnapshotHeader(dec: decoding.Decoder): SnapshotHeader {
  const upToSeq = readSafeVarUint(dec)
  const prevSeq = readSafeVarUint(dec)
  const prev = decoding.readUint8Array(dec, 32).slice()
  if (!(upToSeq > prevSeq)) throw new Error('snapshot covers nothing')
  return { upToSeq, prevSeq, prev }
}
