import { equalBytes, NO_SNAPSHOT, snapshotId } from '@valv/protocol'
import type { SnapshotConfirmFrame, SnapshotUploadFrame } from '@valv/wire'
import { Contended } from './contended.js'
import type { Doc } from './doc.js'
import type { StoredSnapshot } from './doc-log.js'
import { RelayError } from './errors.js'
import type { EnvelopeVerifier, VerifyContext } from './verifier.js'

/** What a snapshot write did: the snapshot, whether it is now the base, bytes stored (±). */
export interface SnapshotOutcome {
  readonly snapshot: StoredSnapshot
  readonly confirmed: boolean
  readonly storedDelta: number
}

/**
 * Accept a snapshot upload (runs under the document's lock; throws {@link RelayError}). The
 * signed header must match the frame, chain to the confirmed snapshot (id and seq:
 * compare-and-swap, so a replayed or concurrent one loses) and cover at most the head. It
 * replaces any pending snapshot; nothing is deleted until a second writer confirms it, unless
 * its author is the only writer. Every change is the next snapshot claim in the store: when
 * another node changed the snapshot state first, this throws {@link Contended}.
 */
export async function uploadSnapshot(
  doc: Doc,
  verifier: EnvelopeVerifier,
  ctx: VerifyContext,
  f: SnapshotUploadFrame,
): Promise<SnapshotOutcome> {
  const h = await verifier.verifySnapshot(ctx, f.snapshot)
  if (h.upToSeq !== f.upToSeq || h.prevSeq !== f.prevSeq) {
    throw new RelayError('snapshot-invalid', 'frame disagrees with the signed snapshot header')
  }
  const base = doc.snapshot
  const baseSeq = base?.upToSeq ?? 0
  if (h.prevSeq !== baseSeq || !equalBytes(h.prev, base?.id ?? NO_SNAPSHOT)) {
    throw new RelayError('snapshot-conflict', `the confirmed snapshot covers ${baseSeq}`)
  }
  if (h.upToSeq <= baseSeq || h.upToSeq > doc.headSeq) {
    throw new RelayError('snapshot-invalid', 'upToSeq out of range')
  }
  const next: StoredSnapshot = {
    upToSeq: h.upToSeq,
    prevSeq: h.prevSeq,
    id: snapshotId(doc.id, f.snapshot),
    author: h.author,
    bytes: f.snapshot,
    counters: new Map(doc.counters),
    confirmation: new Uint8Array(),
  }
  const replaced = doc.unconfirmed?.bytes.length ?? 0
  if (h.soleWriter) {
    const done = await promote(doc, next)
    return { ...done, confirmed: true, storedDelta: done.storedDelta - replaced }
  }
  const n = doc.claim + 1
  if (!(await doc.log.appendClaim(n, 'pending', next))) throw new Contended()
  doc.claim = n
  doc.unconfirmed = next
  await prune(doc, n)
  return { snapshot: next, confirmed: false, storedDelta: f.snapshot.length - replaced }
}

/**
 * Accept a confirmation of the pending snapshot (under the document's lock): signed by a
 * current writer other than its author. The snapshot becomes the base; covered updates go.
 */
export async function confirmSnapshot(
  doc: Doc,
  verifier: EnvelopeVerifier,
  ctx: VerifyContext,
  f: SnapshotConfirmFrame,
): Promise<SnapshotOutcome> {
  const pending = doc.unconfirmed
  if (pending === undefined || pending.upToSeq !== f.upToSeq) {
    throw new RelayError('snapshot-conflict', 'no pending snapshot covers that sequence number')
  }
  const c = await verifier.verifyConfirmation(ctx, f.confirmation, pending.id)
  if (c.author === pending.author) {
    throw new RelayError('forbidden', 'a snapshot needs a second writer to confirm it')
  }
  const outcome = await promote(doc, { ...pending, confirmation: f.confirmation })
  return { ...outcome, confirmed: true, storedDelta: outcome.storedDelta - pending.bytes.length }
}

/**
 * Make `next` the base: claim it (exactly one promotion from a base wins, across nodes), store
 * it, then (DocumentStore) delete what it covers. A crash after the claim is finished by the
 * next node that loads the document.
 */
async function promote(doc: Doc, next: StoredSnapshot) {
  let freed = doc.snapshot?.bytes.length ?? 0
  for await (const u of doc.log.readUpdates(doc.snapshot?.upToSeq ?? 0)) {
    if (u.seq > next.upToSeq) break
    freed += u.envelope.length
  }
  const n = doc.claim + 1
  if (!(await doc.log.appendClaim(n, 'base', next))) throw new Contended()
  doc.claim = n
  await doc.log.replaceSnapshot(next)
  doc.snapshot = next
  doc.unconfirmed = undefined
  await prune(doc, n)
  return { snapshot: next, storedDelta: next.bytes.length - freed }
}

/** Superseded claims go; if that fails the write still stands, and the next change prunes them. */
async function prune(doc: Doc, n: number): Promise<void> {
  try {
    await doc.log.pruneClaims(n)
  } catch {
    // only garbage is left behind
  }
}
