import { equalBytes, fromBase64Url, toBase64Url, toHex } from '@valv/protocol'
import { type AuditEntry, checkSignature, decodeRecord } from '../audit/record.js'
import { ComplianceError } from '../errors.js'

/**
 * Proof that an erasure was carried out: the signed `erasure` audit entry and a signed head
 * sealing the trail through it. Check it with {@link verifyErasureReceipt}; an auditor holding
 * the whole trail finds the same entry at `entry.seq`.
 */
export interface ErasureReceipt {
  /** The erased document. */
  readonly docId: string
  /** When (ms since the epoch, the eraser's clock). */
  readonly erasedAt: number
  /** The encoded `erasure` entry. */
  readonly entry: Uint8Array
  /** The encoded head sealing the trail through that entry. */
  readonly head: Uint8Array
}

/** Build a receipt from the erasure entry and the head signed right after it. */
export function receiptOf(entry: AuditEntry, head: Uint8Array): ErasureReceipt {
  return { docId: entry.subject ?? entry.trailId, erasedAt: entry.time, entry: entry.bytes, head }
}

/** The receipt as one line of text (`valv-erasure 1 <entry> <head>`, base64url). */
export function formatReceipt(receipt: ErasureReceipt): string {
  return `valv-erasure 1 ${toBase64Url(receipt.entry)} ${toBase64Url(receipt.head)}`
}

/** Parse {@link formatReceipt}'s text (not verified: call {@link verifyErasureReceipt}). */
export function parseReceipt(text: string): ErasureReceipt {
  const [magic, version, a, b, ...rest] = text.trim().split(' ')
  const entry = a === undefined ? undefined : fromBase64Url(a)
  const head = b === undefined ? undefined : fromBase64Url(b)
  if (magic !== 'valv-erasure' || version !== '1' || !entry || !head || rest.length > 0) {
    throw new ComplianceError('malformed', 'not an erasure receipt')
  }
  const record = decodeRecord(entry)
  if (record.kind !== 'entry') throw new ComplianceError('malformed', 'not an erasure receipt')
  return receiptOf(record, head)
}

/**
 * Whether `receipt` is genuine: both records decode and carry valid signatures, the entry is
 * an `erasure` of `receipt.docId`, the head seals the trail through exactly that entry, and
 * (if `signers` is given) both signers are allowed. Never throws.
 */
export async function verifyErasureReceipt(
  receipt: ErasureReceipt,
  signers?: ReadonlySet<string>,
): Promise<boolean> {
  try {
    const entry = decodeRecord(receipt.entry)
    const head = decodeRecord(receipt.head)
    if (entry.kind !== 'entry' || head.kind !== 'head') return false
    if (entry.type !== 'erasure' || entry.subject !== receipt.docId) return false
    if (entry.time !== receipt.erasedAt || head.trailId !== entry.trailId) return false
    if (head.length !== entry.seq + 1 || !equalBytes(head.hash, entry.hash)) return false
    if (signers !== undefined) {
      if (!signers.has(toHex(entry.signer)) || !signers.has(toHex(head.signer))) return false
    }
    return (await checkSignature(entry)) && (await checkSignature(head))
  } catch {
    return false
  }
}
