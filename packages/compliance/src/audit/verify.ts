import { equalBytes, toHex } from '@valv/protocol'
import { ComplianceError } from '../errors.js'
import {
  type AuditEntry,
  type AuditHead,
  type AuditRecord,
  checkSignature,
  decodeRecord,
  ZERO_HASH,
} from './record.js'

/** Why a trail does not verify. */
export type AuditBreakCode =
  /** The record does not decode (bit flip, truncated record, foreign bytes). */
  | 'malformed'
  /** The record's signature does not verify under the key it names (edited or forged). */
  | 'bad-signature'
  /** The signer is not one of the allowed signers (forged with a key of one's own). */
  | 'unknown-signer'
  /** The record belongs to another trail (spliced in from elsewhere). */
  | 'wrong-trail'
  /** The entry's position is not the one it was signed for (reordered, dropped, duplicated). */
  | 'out-of-order'
  /** The entry does not name the hash of the entry before it. */
  | 'broken-link'
  /** The trail ends without a signed head, or a head appears before the end. */
  | 'missing-head'
  /** The head seals more entries than are present (entries dropped at the end). */
  | 'truncated'
  /** The head seals a different last entry or fewer entries than present. */
  | 'head-mismatch'
  /** The trail is shorter than, or disagrees with, a head the verifier trusts from elsewhere. */
  | 'rolled-back'

/** The result of {@link verifyTrail}. */
export type AuditVerdict =
  | {
      readonly ok: true
      /** The trail's id. */
      readonly trailId: string
      /** Every entry, verified, in order. */
      readonly entries: readonly AuditEntry[]
      /** The head that seals them. */
      readonly head: AuditHead
    }
  | {
      readonly ok: false
      /**
       * Index of the first bad record (0-based position in the list of records, which is the
       * entry's expected `seq`). For a missing or short trail: the first missing position.
       */
      readonly index: number
      /** What is wrong there. */
      readonly code: AuditBreakCode
      /** One line for people. */
      readonly message: string
      /** The entries before the break, each verified. */
      readonly entries: readonly AuditEntry[]
    }

/** Options of {@link verifyTrail}. */
export interface VerifyTrailOptions {
  /** Expected trail id (e.g. the document id); default: the id of the first record. */
  readonly trailId?: string
  /**
   * Who may sign entries and heads: a set of hex public keys, or a predicate. Without it any
   * key is accepted, which proves integrity but not authorship (see `chainSigners`).
   */
  readonly signers?: ReadonlySet<string> | ((publicKey: Uint8Array) => boolean)
  /**
   * A head obtained independently (an earlier export, a copy a member kept, a witness): the
   * trail must contain the entries it seals, so dropping entries together with the newer
   * head is detected.
   */
  readonly trustedHead?: { readonly length: number; readonly hash: Uint8Array }
}

/**
 * Verify an exported trail offline: `records` are the encoded entries in order followed by one
 * signed head. Reports the first break: decoding, signature, signer, trail id, position, hash
 * link, and finally that the head seals exactly these entries. Never throws on bad input.
 *
 * @example
 * ```ts
 * const state = new MembershipState(docId)
 * for (const entry of chain) state.append(entry)
 * declare const trailFile: string // the text `AuditTrail.export` wrote
 * const verdict = await verifyTrail(parseTrailFile(trailFile), { signers: chainSigners(state) })
 * if (!verdict.ok) console.log(`break at ${verdict.index}: ${verdict.code}`)
 * ```
 */
export async function verifyTrail(
  records: readonly Uint8Array[],
  options: VerifyTrailOptions = {},
): Promise<AuditVerdict> {
  const entries: AuditEntry[] = []
  let trailId = options.trailId
  const fail = (index: number, code: AuditBreakCode, message: string): AuditVerdict => ({
    ok: false,
    index,
    code,
    message,
    entries,
  })
  const allowed = signerCheck(options.signers)
  let prev = ZERO_HASH
  for (let i = 0; i < records.length; i++) {
    let record: AuditRecord
    try {
      record = decodeRecord(records[i] as Uint8Array)
    } catch (err) {
      return fail(i, 'malformed', err instanceof ComplianceError ? err.message : 'bad record')
    }
    if (!(await checkSignature(record))) return fail(i, 'bad-signature', 'signature fails')
    if (!allowed(record.signer)) {
      return fail(i, 'unknown-signer', `signer ${toHex(record.signer)} is not allowed`)
    }
    trailId ??= record.trailId
    if (record.trailId !== trailId) return fail(i, 'wrong-trail', 'record of another trail')
    if (record.kind === 'head') {
      if (i !== records.length - 1) return fail(i, 'missing-head', 'a head before the end')
      if (record.length > entries.length) {
        return fail(entries.length, 'truncated', `head seals ${record.length} entries`)
      }
      if (record.length < entries.length || !equalBytes(record.hash, prev)) {
        return fail(i, 'head-mismatch', 'head does not seal these entries')
      }
      const trusted = options.trustedHead
      if (trusted !== undefined) {
        if (trusted.length > entries.length) {
          return fail(entries.length, 'rolled-back', `a trusted head has ${trusted.length}`)
        }
        const at =
          trusted.length === 0 ? ZERO_HASH : (entries[trusted.length - 1]?.hash as Uint8Array)
        if (!equalBytes(at, trusted.hash)) {
          return fail(Math.max(0, trusted.length - 1), 'rolled-back', 'trusted head disagrees')
        }
      }
      return { ok: true, trailId, entries, head: record }
    }
    if (record.seq !== i) return fail(i, 'out-of-order', `entry ${record.seq} at position ${i}`)
    if (!equalBytes(record.prev, prev)) return fail(i, 'broken-link', 'previous hash differs')
    const { kind: _, ...entry } = record
    entries.push(entry)
    prev = record.hash
  }
  return fail(records.length, 'missing-head', 'the trail has no signed head')
}

function signerCheck(signers: VerifyTrailOptions['signers']): (key: Uint8Array) => boolean {
  if (signers === undefined) return () => true
  if (typeof signers === 'function') return signers
  return (key) => signers.has(toHex(key))
}
