import type { StorageKey } from './adapter.js'
import { assertValidKey, StorageError } from './errors.js'

/**
 * The key layout of {@link DocumentStore}, the one place it is defined:
 *
 * ```
 * docs/<docId>/log/<seq>      one envelope per sequence number
 * docs/<docId>/snap/<seq>     a snapshot covering the log up to and including <seq>
 * docs/<docId>/blob/<blobId>  a streamed blob (file, large attachment)
 * docs/<docId>/member/<index> one entry of the membership chain
 * docs/<docId>/claim/<n>      the n-th change of a document's snapshot state (compare-and-append)
 * docs/<docId>/lock/<name>    a lock's name (for `tryLock`; nothing is stored under it)
 * ```
 *
 * Sequence numbers are zero-padded to 16 digits (enough for `Number.MAX_SAFE_INTEGER`), so the
 * byte order every adapter sorts by is numeric order.
 */
export const SEQ_DIGITS = 16

/** Zero-padded sequence segment; throws `invalid-value` for anything but a safe integer >= 0. */
export function seqSegment(seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 0) {
    throw new StorageError('invalid-value', 'sequence number must be a safe integer >= 0')
  }
  return String(seq).padStart(SEQ_DIGITS, '0')
}

/** The sequence number of a segment written by {@link seqSegment}, or undefined for others. */
export function parseSeq(segment: string): number | undefined {
  if (segment.length !== SEQ_DIGITS || !/^\d+$/.test(segment)) return undefined
  return Number(segment)
}

/** Root of all documents. */
export const DOCS: StorageKey = ['docs']

/** Prefix of everything belonging to `docId` (validated). */
export function docKey(docId: string): StorageKey {
  assertValidKey([docId])
  return ['docs', docId]
}

/** Prefix of a document's log. */
export const logPrefix = (docId: string): StorageKey => [...docKey(docId), 'log']
/** Prefix of a document's snapshots. */
export const snapPrefix = (docId: string): StorageKey => [...docKey(docId), 'snap']
/** Prefix of a document's blobs. */
export const blobPrefix = (docId: string): StorageKey => [...docKey(docId), 'blob']

/** Prefix of a document's membership chain. */
export const memberPrefix = (docId: string): StorageKey => [...docKey(docId), 'member']

/** Prefix of a document's snapshot-state claims. */
export const claimPrefix = (docId: string): StorageKey => [...docKey(docId), 'claim']

/** Prefix of a document's lock names (never stored: names for `StorageAdapter.tryLock`). */
export const lockPrefix = (docId: string): StorageKey => [...docKey(docId), 'lock']

/** Key of one blob (validated). */
export function blobKey(docId: string, blobId: string): StorageKey {
  assertValidKey([blobId])
  return [...blobPrefix(docId), blobId]
}
