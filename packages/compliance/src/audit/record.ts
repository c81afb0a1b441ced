import {
  AUDIT_ZERO_HASH,
  type AuditEntry,
  type AuditEvent,
  type AuditRecord,
  type AuditRecordSigner,
  auditRecordHash,
  CryptoError,
  checkAuditEvent,
  checkAuditSignature,
  decodeAuditRecord,
  MAX_AUDIT_RECORD_BYTES,
  AUDIT_VERSION as PROTOCOL_AUDIT_VERSION,
  signAuditEntry,
  signAuditHead,
  toBase64Url,
  toHex,
} from '@valv/protocol'
import { ComplianceError } from '../errors.js'

// The record format is `@valv/protocol`'s (the relay writes records too and cannot import this
// package); here its errors become this package's `ComplianceError` codes.
export type { AuditEntry, AuditHead, AuditRecord, AuditRecordSigner } from '@valv/protocol'

/** Version byte of every audit record. */
export const AUDIT_VERSION = PROTOCOL_AUDIT_VERSION
/** Largest encoded record; anything longer is refused unread. */
export const MAX_RECORD_BYTES = MAX_AUDIT_RECORD_BYTES
/** The hash a trail starts from (the `prev` of entry 0, the `hash` of an empty trail's head). */
export const ZERO_HASH: Uint8Array = AUDIT_ZERO_HASH
/** The chain hash of a record: what the next entry names as `prev`. */
export const recordHash = auditRecordHash

type Code = 'invalid-argument' | 'malformed'

/** `fn` with `@valv/protocol`'s `CryptoError`s turned into `ComplianceError(code)`. */
function translated<A extends unknown[], R>(code: Code, fn: (...args: A) => R): (...args: A) => R {
  const translate = (err: unknown): unknown =>
    err instanceof CryptoError ? new ComplianceError(code, err.message, { cause: err }) : err
  return (...args) => {
    let result: R
    try {
      result = fn(...args)
    } catch (err) {
      throw translate(err)
    }
    return result instanceof Promise
      ? (result.catch((err) => Promise.reject(translate(err))) as R)
      : result
  }
}

/** Check an event against the limits; throws `invalid-argument`. */
export const checkEvent: (event: AuditEvent) => void = translated(
  'invalid-argument',
  checkAuditEvent,
)

/** Build and sign entry `seq` of `trailId` after `prev`; throws `invalid-argument`. */
export const signEntry: (
  signer: AuditRecordSigner,
  trailId: string,
  seq: number,
  prev: Uint8Array,
  time: number,
  event: AuditEvent,
) => Promise<Uint8Array> = translated('invalid-argument', signAuditEntry)

/** Build and sign a head sealing `length` entries of `trailId` that end in `hash`. */
export const signHead: (
  signer: AuditRecordSigner,
  trailId: string,
  length: number,
  hash: Uint8Array,
  time: number,
) => Promise<Uint8Array> = translated('invalid-argument', signAuditHead)

/**
 * Decode one record strictly (no trailing bytes, sorted unique details, limits). Does not check
 * the signature: {@link checkSignature} does. Throws `ComplianceError('malformed')`.
 */
export const decodeRecord: (bytes: Uint8Array) => AuditRecord = translated(
  'malformed',
  decodeAuditRecord,
)

/** Whether `record`'s signature verifies under the key it names. */
export const checkSignature = (record: AuditRecord): Promise<boolean> => checkAuditSignature(record)

/** A plain-JSON view of an entry for people and logs (keys and hashes as hex). */
export function describeEntry(entry: AuditEntry): Record<string, unknown> {
  return {
    seq: entry.seq,
    time: new Date(entry.time).toISOString(),
    type: entry.type,
    ...(entry.subject === undefined ? {} : { subject: entry.subject }),
    ...(entry.details === undefined ? {} : { details: entry.details }),
    signer: toHex(entry.signer),
    hash: toHex(entry.hash),
  }
}

/** Base64url of a record (one line of a trail file). */
export const recordLine = (bytes: Uint8Array): string => toBase64Url(bytes)
