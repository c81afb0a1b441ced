import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { domainHash } from './bytes.js'
import { CryptoError } from './errors.js'
import { verifyDomainAsync } from './signature.js'

// The byte format of audit records lives here, not in `@valv/compliance`, because the relay
// writes records too and must not import a package that holds client keys. The layout is in
// docs/protocol.md, "Audit records".

/** Version byte of every audit record. */
export const AUDIT_VERSION = 1
const TAG_ENTRY = 0
const TAG_HEAD = 1
const HASH = 32
const KEY = 32
const SIG = 64
/** Largest encoded audit record; anything longer is refused unread. */
export const MAX_AUDIT_RECORD_BYTES = 16 * 1024

/** The hash an audit trail starts from (the `prev` of entry 0, the `hash` of an empty head). */
export const AUDIT_ZERO_HASH: Uint8Array = new Uint8Array(HASH)

/**
 * What happened, without content: who or what it concerns (`subject`: a member key, user id,
 * admission index, device id) and short facts (`details`: role names, epoch numbers, a level,
 * a reason). Never put document text, titles or file names here: the relay stores the trail.
 */
export interface AuditEvent {
  /** The kind of event: a lower-case dotted name such as `member.added`. */
  readonly type: string
  /** Pseudonymous id of whom or what the event concerns, if anyone. */
  readonly subject?: string
  /** Short facts as text, keys sorted when encoded (at most 16 entries). */
  readonly details?: Readonly<Record<string, string>>
}

/** Limits that keep audit records small and keep content out (checked on sign and on decode). */
export const AUDIT_LIMITS = {
  /** Longest trail id. */
  trailId: 200,
  /** Longest event type. */
  type: 64,
  /** Longest subject. */
  subject: 256,
  /** Most detail entries. */
  details: 16,
  /** Longest detail key. */
  detailKey: 64,
  /** Longest detail value. */
  detailValue: 512,
} as const

/** Event types are lower-case dotted names. */
export const AUDIT_EVENT_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$/

/** Something that signs audit records: a device's per-document key, or a service key. */
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
  /** Hash of the previous entry ({@link AUDIT_ZERO_HASH} for entry 0). */
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
  /** Hash of the last covered entry ({@link AUDIT_ZERO_HASH} when `length` is 0). */
  readonly hash: Uint8Array
  /** Milliseconds since the epoch when it was signed. */
  readonly time: number
  /** Ed25519 public key of the signer. */
  readonly signer: Uint8Array
  /** The encoded, signed record. */
  readonly bytes: Uint8Array
}

/** A decoded audit record: an entry or a head. */
export type AuditRecord =
  | ({ readonly kind: 'entry' } & AuditEntry)
  | ({ readonly kind: 'head' } & AuditHead)

/** The chain hash of an audit record: what the next entry names as `prev`. */
export const auditRecordHash = (bytes: Uint8Array): Uint8Array => domainHash('audit-link', bytes)

function bad(message: string, cause?: unknown): CryptoError {
  return new CryptoError('malformed', message, cause === undefined ? undefined : { cause })
}

/** Check an event against {@link AUDIT_LIMITS}; throws `CryptoError('malformed')`. */
export function checkAuditEvent(event: AuditEvent): void {
  if (event.type.length > AUDIT_LIMITS.type || !AUDIT_EVENT_PATTERN.test(event.type)) {
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

/**
 * Build and sign entry `seq` of `trailId` after `prev`. Throws `CryptoError('malformed')` for
 * an event, id or time outside the limits.
 *
 * @example
 * ```ts
 * declare const signer: AuditRecordSigner // e.g. a service's Ed25519 key
 * const bytes = await signAuditEntry(signer, 'relay', 0, AUDIT_ZERO_HASH, Date.now(), {
 *   type: 'relay.erased',
 *   subject: 'doc-1',
 * })
 * ```
 */
export async function signAuditEntry(
  signer: AuditRecordSigner,
  trailId: string,
  seq: number,
  prev: Uint8Array,
  time: number,
  event: AuditEvent,
): Promise<Uint8Array> {
  checkTrailId(trailId)
  checkAuditEvent(event)
  checkTime(time)
  if (!Number.isSafeInteger(seq) || seq < 0) throw bad('seq must be a safe integer >= 0')
  if (prev.length !== HASH) throw bad('prev must be 32 bytes')
  const enc = recordHeader(TAG_ENTRY, trailId, seq, prev, time, signer.publicKey)
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

/**
 * Build and sign a head sealing `length` entries of `trailId` that end in `hash`.
 *
 * @example
 * ```ts
 * declare const signer: AuditRecordSigner
 * declare const lastHash: Uint8Array // the `hash` of the trail's last entry
 * const head = await signAuditHead(signer, 'relay', 1, lastHash, Date.now())
 * ```
 */
export async function signAuditHead(
  signer: AuditRecordSigner,
  trailId: string,
  length: number,
  hash: Uint8Array,
  time: number,
): Promise<Uint8Array> {
  checkTrailId(trailId)
  checkTime(time)
  if (!Number.isSafeInteger(length) || length < 0) throw bad('length must be a safe integer')
  if (hash.length !== HASH) throw bad('hash must be 32 bytes')
  return seal(
    signer,
    encoding.toUint8Array(recordHeader(TAG_HEAD, trailId, length, hash, time, signer.publicKey)),
  )
}

/** Entries and heads share their start: version, tag, trail, a count, a hash, time, signer. */
function recordHeader(
  tag: number,
  trailId: string,
  n: number,
  hash: Uint8Array,
  time: number,
  publicKey: Uint8Array,
): encoding.Encoder {
  const enc = encoding.createEncoder()
  encoding.writeUint8(enc, AUDIT_VERSION)
  encoding.writeUint8(enc, tag)
  encoding.writeVarString(enc, trailId)
  encoding.writeVarUint(enc, n)
  encoding.writeUint8Array(enc, hash)
  encoding.writeVarUint(enc, time)
  encoding.writeUint8Array(enc, publicKey)
  return enc
}

async function seal(signer: AuditRecordSigner, body: Uint8Array): Promise<Uint8Array> {
  if (signer.publicKey.length !== KEY) throw bad('signer key must be 32 bytes')
  const signature = await signer.signAudit(body)
  const out = new Uint8Array(body.length + SIG)
  out.set(body)
  out.set(signature, body.length)
  if (out.length > MAX_AUDIT_RECORD_BYTES) throw bad('audit record too large')
  return out
}

/**
 * Decode one audit record strictly (no trailing bytes, sorted unique details, limits). Does not
 * check the signature: {@link checkAuditSignature} does. Throws `CryptoError('malformed')`.
 *
 * @example
 * ```ts
 * const record = decodeAuditRecord(bytes)
 * if (record.kind === 'entry' && (await checkAuditSignature(record))) console.log(record.type)
 * ```
 */
export function decodeAuditRecord(bytes: Uint8Array): AuditRecord {
  if (bytes.length > MAX_AUDIT_RECORD_BYTES) throw bad('audit record too large')
  if (bytes.length < SIG + 2) throw bad('audit record too short')
  const body = bytes.subarray(0, bytes.length - SIG)
  try {
    const dec = decoding.createDecoder(body)
    if (decoding.readUint8(dec) !== AUDIT_VERSION) throw bad('unknown audit record version')
    const tag = decoding.readUint8(dec)
    const trailId = decoding.readVarString(dec)
    if (trailId.length === 0 || trailId.length > AUDIT_LIMITS.trailId) throw bad('trail id')
    let record: AuditRecord
    if (tag === TAG_ENTRY) {
      const seq = decoding.readVarUint(dec)
      const prev = decoding.readUint8Array(dec, HASH).slice()
      const time = decoding.readVarUint(dec)
      const signer = decoding.readUint8Array(dec, KEY).slice()
      const type = decoding.readVarString(dec)
      const subject = decoding.readVarString(dec)
      const n = decoding.readVarUint(dec)
      if (n > AUDIT_LIMITS.details) throw bad('too many details')
      const details: Record<string, string> = {}
      let last: string | undefined
      for (let i = 0; i < n; i++) {
        const k = decoding.readVarString(dec)
        if (last !== undefined && !(last < k)) throw bad('details not sorted')
        last = k
        details[k] = decoding.readVarString(dec)
      }
      const event: AuditEvent = {
        type,
        ...(subject === '' ? {} : { subject }),
        ...(n === 0 ? {} : { details }),
      }
      checkAuditEvent(event)
      record = {
        kind: 'entry',
        trailId,
        seq,
        prev,
        time,
        signer,
        ...event,
        hash: auditRecordHash(bytes),
        bytes,
      }
    } else if (tag === TAG_HEAD) {
      const length = decoding.readVarUint(dec)
      const hash = decoding.readUint8Array(dec, HASH).slice()
      const time = decoding.readVarUint(dec)
      const signer = decoding.readUint8Array(dec, KEY).slice()
      record = { kind: 'head', trailId, length, hash, time, signer, bytes }
    } else {
      throw bad('unknown audit record tag')
    }
    if (decoding.hasContent(dec)) throw bad('trailing bytes in audit record')
    if ('seq' in record && !Number.isSafeInteger(record.seq)) throw bad('seq')
    if ('length' in record && !Number.isSafeInteger(record.length)) throw bad('length')
    if (!Number.isSafeInteger(record.time)) throw bad('time')
    return record
  } catch (err) {
    if (err instanceof CryptoError) throw err
    throw bad('audit record does not decode', err)
  }
}

/** Whether `record`'s signature verifies under the key it names (domain `audit`). */
export function checkAuditSignature(record: AuditRecord): Promise<boolean> {
  const body = record.bytes.subarray(0, record.bytes.length - SIG)
  const signature = record.bytes.subarray(record.bytes.length - SIG)
  return verifyDomainAsync('audit', record.signer, signature, body)
}
