import { domainHash, toBase64Url, toHex, verifyDomainAsync } from '@valv/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { ComplianceError } from '../errors.js'
import { AUDIT_LIMITS, type AuditEvent, EVENT_TYPE_PATTERN } from './events.js'

/** Version byte of every audit record. */
export const AUDIT_VERSION = 1
const TAG_ENTRY = 0
const TAG_HEAD = 1
const HASH = 32
const KEY = 32
const SIG = 64
/** Largest encoded record; anything longer is refused unread. */
export const MAX_RECORD_BYTES = 16 * 1024

/** The hash a trail starts from (the `prev` of entry 0, the `hash` of an empty trail's head). */
export const ZERO_HASH: Uint8Array = new Uint8Array(HASH)

/** Something that signs audit records: `documentAuditSigner` of `@valv/crypto`, or a service key. */
export interface AuditRecordSigner {
  /** Ed25519 public key (32 bytes). */
  readonly publicKey: Uint8Array
  /** Signature over `domainMessage('audit', ...parts)`. */
  signAudit(...parts: Uint8Array[]): Promise<Uint8Array>
}

/** A decoded audit entry with the bytes it came from. */
export interface AuditEntry extends AuditEvent {
  /** The trail (usually the document id) the entry belongs to. */
  readonly trailId: string
  /** Position in the trail, from 0. */
  readonly seq: number
  /** Hash of the previous entry ({@link ZERO_HASH} for entry 0). */
  readonly prev: Uint8Array
  /** Milliseconds since the epoch, as the writer's clock said. */
  readonly time: number
  /** Ed25519 public key of the writer. */
  readonly signer: Uint8Array
  /** Hash of this record; the next entry's `prev`. */
  readonly hash: Uint8Array
  /** The encoded, signed record. */
  readonly bytes: Uint8Array
}

/** A decoded head: a signed statement that a trail had `length` entries ending in `hash`. */
export interface AuditHead {
  /** The trail it seals. */
  readonly trailId: string
  /** Number of entries covered. */
  readonly length: number
  /** Hash of the last covered entry ({@link ZERO_HASH} when `length` is 0). */
  readonly hash: Uint8Array
  /** Milliseconds since the epoch when it was signed. */
  readonly time: number
  /** Ed25519 public key of the signer. */
  readonly signer: Uint8Array
  /** The encoded, signed record. */
  readonly bytes: Uint8Array
}

/** A decoded record: an entry or a head. */
export type AuditRecord =
  | ({ readonly kind: 'entry' } & AuditEntry)
  | ({ readonly kind: 'head' } & AuditHead)

/** The chain hash of a record: what the next entry names as `prev`. */
export const recordHash = (bytes: Uint8Array): Uint8Array => domainHash('audit-link', bytes)

function bad(message: string): ComplianceError {
  return new ComplianceError('invalid-argument', message)
}

/** Check an event against {@link AUDIT_LIMITS}; throws `invalid-argument`. */
export function checkEvent(event: AuditEvent): void {
  if (event.type.length > AUDIT_LIMITS.type || !EVENT_TYPE_PATTERN.test(event.type)) {
    throw bad('event type must be a short lower-case dotted name')
  }
  if ((event.subject?.length ?? 0) > AUDIT_LIMITS.subject) throw bad('event subject too long')
  const details = Object.entries(event.details ?? {})
  if (details.length > AUDIT_LIMITS.details) throw bad('too many event details')
  for (const [k, v] of details) {
    if (typeof v !== 'string') throw bad('event detail values must be strings')
    if (k.length === 0 || k.length > AUDIT_LIMITS.detailKey) throw bad('bad event detail key')
    if (v.length > AUDIT_LIMITS.detailValue) throw bad('event detail value too long')
  }
}

function checkTrailId(trailId: string): void {
  if (trailId.length === 0 || trailId.length > AUDIT_LIMITS.trailId) throw bad('bad trail id')
}

function checkTime(time: number): void {
  if (!Number.isSafeInteger(time) || time < 0) throw bad('time must be a safe integer >= 0')
}

/** Build and sign entry `seq` of `trailId` after `prev`. */
export async function signEntry(
  signer: AuditRecordSigner,
  trailId: string,
  seq: number,
  prev: Uint8Array,
  time: number,
  event: AuditEvent,
): Promise<Uint8Array> {
  checkTrailId(trailId)
  checkEvent(event)
  checkTime(time)
  const enc = encoding.createEncoder()
  encoding.writeUint8(enc, AUDIT_VERSION)
  encoding.writeUint8(enc, TAG_ENTRY)
  encoding.writeVarString(enc, trailId)
  encoding.writeVarUint(enc, seq)
  encoding.writeUint8Array(enc, prev)
  encoding.writeVarUint(enc, time)
  encoding.writeUint8Array(enc, signer.publicKey)
  encoding.writeVarString(enc, event.type)
  encoding.writeVarString(enc, event.subject ?? '')
  const details = Object.entries(event.details ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))
  encoding.writeVarUint(enc, details.length)
  for (const [k, v] of details) {
    encoding.writeVarString(enc, k)
    encoding.writeVarString(enc, v)
  }
  return seal(signer, encoding.toUint8Array(enc))
}

/** Build and sign a head sealing `length` entries of `trailId` that end in `hash`. */
export async function signHead(
  signer: AuditRecordSigner,
  trailId: string,
  length: number,
  hash: Uint8Array,
  time: number,
): Promise<Uint8Array> {
  checkTrailId(trailId)
  checkTime(time)
  const enc = encoding.createEncoder()
  encoding.writeUint8(enc, AUDIT_VERSION)
  encoding.writeUint8(enc, TAG_HEAD)
  encoding.writeVarString(enc, trailId)
  encoding.writeVarUint(enc, length)
  encoding.writeUint8Array(enc, hash)
  encoding.writeVarUint(enc, time)
  encoding.writeUint8Array(enc, signer.publicKey)
  return seal(signer, encoding.toUint8Array(enc))
}

async function seal(signer: AuditRecordSigner, body: Uint8Array): Promise<Uint8Array> {
  if (signer.publicKey.length !== KEY) throw bad('signer key must be 32 bytes')
  const signature = await signer.signAudit(body)
  const out = new Uint8Array(body.length + SIG)
  out.set(body)
  out.set(signature, body.length)
  if (out.length > MAX_RECORD_BYTES) throw bad('audit record too large')
  return out
}

function malformed(message: string, cause?: unknown): ComplianceError {
  return new ComplianceError('malformed', message, cause === undefined ? undefined : { cause })
}

/**
 * Decode one record strictly (no trailing bytes, sorted unique details, limits). Does not check
 * the signature: {@link checkSignature} does. Throws `ComplianceError('malformed')`.
 */
export function decodeRecord(bytes: Uint8Array): AuditRecord {
  if (bytes.length > MAX_RECORD_BYTES) throw malformed('audit record too large')
  if (bytes.length < SIG + 2) throw malformed('audit record too short')
  const body = bytes.subarray(0, bytes.length - SIG)
  try {
    const dec = decoding.createDecoder(body)
    if (decoding.readUint8(dec) !== AUDIT_VERSION) throw malformed('unknown audit record version')
    const tag = decoding.readUint8(dec)
    const trailId = decoding.readVarString(dec)
    if (trailId.length === 0 || trailId.length > AUDIT_LIMITS.trailId) throw malformed('trail id')
    let record: AuditRecord
    if (tag === TAG_ENTRY) {
      const seq = decoding.readVarUint(dec)
      const prev = decoding.readUint8Array(dec, HASH).slice()
      const time = decoding.readVarUint(dec)
      const signer = decoding.readUint8Array(dec, KEY).slice()
      const type = decoding.readVarString(dec)
      const subject = decoding.readVarString(dec)
      const n = decoding.readVarUint(dec)
      if (n > AUDIT_LIMITS.details) throw malformed('too many details')
      const details: Record<string, string> = {}
      let last: string | undefined
      for (let i = 0; i < n; i++) {
        const k = decoding.readVarString(dec)
        if (last !== undefined && !(last < k)) throw malformed('details not sorted')
        last = k
        details[k] = decoding.readVarString(dec)
      }
      const event: AuditEvent = {
        type,
        ...(subject === '' ? {} : { subject }),
        ...(n === 0 ? {} : { details }),
      }
      try {
        checkEvent(event)
      } catch (cause) {
        throw malformed('event out of limits', cause)
      }
      record = {
        kind: 'entry',
        trailId,
        seq,
        prev,
        time,
        signer,
        ...event,
        hash: recordHash(bytes),
        bytes,
      }
    } else if (tag === TAG_HEAD) {
      const length = decoding.readVarUint(dec)
      const hash = decoding.readUint8Array(dec, HASH).slice()
      const time = decoding.readVarUint(dec)
      const signer = decoding.readUint8Array(dec, KEY).slice()
      record = { kind: 'head', trailId, length, hash, time, signer, bytes }
    } else {
      throw malformed('unknown audit record tag')
    }
    if (decoding.hasContent(dec)) throw malformed('trailing bytes in audit record')
    if ('seq' in record && !Number.isSafeInteger(record.seq)) throw malformed('seq')
    if (!Number.isSafeInteger(record.time)) throw malformed('time')
    return record
  } catch (err) {
    if (err instanceof ComplianceError) throw err
    throw malformed('audit record does not decode', err)
  }
}

/** Whether `record`'s signature verifies under the key it names. */
export function checkSignature(record: AuditRecord): Promise<boolean> {
  const body = record.bytes.subarray(0, record.bytes.length - SIG)
  const signature = record.bytes.subarray(record.bytes.length - SIG)
  return verifyDomainAsync('audit', record.signer, signature, body)
}

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
