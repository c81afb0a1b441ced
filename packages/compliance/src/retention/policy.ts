import type * as Y from 'yjs'
import type { AuditContext } from '../audit/context.js'
import type { Policy } from '../classification/policy.js'
import { ComplianceError } from '../errors.js'
import { complianceMap } from '../meta.js'

/** A legal hold: while it is set, nothing may erase the document, whatever the retention says. */
export interface LegalHold {
  /** What the hold is for: a case or matter reference (kept inside the encrypted document). */
  readonly reference: string
  /** Date the hold was placed, `YYYY-MM-DD`. */
  readonly placedAt: string
}

/**
 * A document's retention rules (gallring): kept inside the encrypted document. Dates are
 * `YYYY-MM-DD` and whole days in UTC.
 */
export interface RetentionPolicy {
  /** Start of the retention period (creation, registration); needed for a level's minimum. */
  readonly since?: string
  /** Must be kept through this day; erasure before the next day is refused. */
  readonly keepUntil?: string
  /** Due for erasure (gallringsfrist) after this day; {@link erasureStatus} reports `due`. */
  readonly deleteAfter?: string
  /** A legal hold, if one is placed. */
  readonly hold?: LegalHold
}

const DATE = /^\d{4}-\d{2}-\d{2}$/
const DAY = 86_400_000

/** Milliseconds of midnight UTC starting the day after `date` (when a "through" date ends). */
const endOf = (date: string): number => Date.parse(`${date}T00:00:00Z`) + DAY

function checkDate(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'string' || !DATE.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) {
    throw new ComplianceError('invalid-argument', `retention: ${name} must be YYYY-MM-DD`)
  }
  return v
}

/** Check a retention policy; returns a clean copy. Throws `invalid-argument`. */
export function checkRetention(p: RetentionPolicy): RetentionPolicy {
  if (typeof p !== 'object' || p === null) {
    throw new ComplianceError('invalid-argument', 'retention policy')
  }
  const since = checkDate(p.since, 'since')
  const keepUntil = checkDate(p.keepUntil, 'keepUntil')
  const deleteAfter = checkDate(p.deleteAfter, 'deleteAfter')
  if (keepUntil !== undefined && deleteAfter !== undefined && deleteAfter < keepUntil) {
    throw new ComplianceError('invalid-argument', 'retention: deleteAfter is before keepUntil')
  }
  let hold: LegalHold | undefined
  if (p.hold !== undefined) {
    const ref = p.hold.reference
    if (typeof ref !== 'string' || ref.trim() === '' || ref.length > 200) {
      throw new ComplianceError('invalid-argument', 'retention: bad hold reference')
    }
    hold = { reference: ref, placedAt: checkDate(p.hold.placedAt, 'placedAt') as string }
    if (p.hold.placedAt === undefined) {
      throw new ComplianceError('invalid-argument', 'retention: hold needs placedAt')
    }
  }
  return {
    ...(since === undefined ? {} : { since }),
    ...(keepUntil === undefined ? {} : { keepUntil }),
    ...(deleteAfter === undefined ? {} : { deleteAfter }),
    ...(hold === undefined ? {} : { hold }),
  }
}

/** The retention policy stored in `doc` (`{}` if none). */
export function readRetention(doc: Y.Doc): RetentionPolicy {
  const stored = complianceMap(doc).get('retention')
  return stored === undefined ? {} : checkRetention(stored as RetentionPolicy)
}

async function write(
  doc: Y.Doc,
  next: RetentionPolicy,
  audit: AuditContext,
  event: { type: string; details?: Record<string, string> },
): Promise<void> {
  // Audit first: a change that could not be recorded is not made.
  await audit.trail.append(audit.signer, event)
  doc.transact(() => complianceMap(doc).set('retention', next))
}

/**
 * Set the document's retention dates (keeping any legal hold) and audit `retention.changed`.
 *
 * @example
 * ```ts
 * const trail = await AuditTrail.open(session.docId)
 * const audit = { trail, signer: documentAuditSigner(session) }
 * await setRetention(ydoc, { since: '2026-12-07', keepUntil: '2036-12-31' }, audit)
 * ```
 */
export async function setRetention(
  doc: Y.Doc,
  policy: Omit<RetentionPolicy, 'hold'>,
  audit: AuditContext,
): Promise<void> {
  const hold = readRetention(doc).hold
  const next = checkRetention({ ...policy, ...(hold === undefined ? {} : { hold }) })
  await write(doc, next, audit, {
    type: 'retention.changed',
    details: {
      keepUntil: next.keepUntil ?? 'none',
      deleteAfter: next.deleteAfter ?? 'none',
    },
  })
}

/** Place a legal hold (replacing any) and audit `hold.placed`. */
export async function placeHold(doc: Y.Doc, hold: LegalHold, audit: AuditContext): Promise<void> {
  const next = checkRetention({ ...readRetention(doc), hold })
  await write(doc, next, audit, { type: 'hold.placed', details: { placedAt: hold.placedAt } })
}

/** Release the legal hold and audit `hold.released`. */
export async function releaseHold(doc: Y.Doc, audit: AuditContext): Promise<void> {
  const { hold: _, ...rest } = readRetention(doc)
  await write(doc, rest, audit, { type: 'hold.released' })
}

/** What {@link erasureStatus} decides. */
export interface ErasureStatus {
  /** Whether erasure is allowed now. */
  readonly allowed: boolean
  /** Why not, if not. */
  readonly refusal?: 'legal-hold' | 'retention'
  /** The last day the document must be kept, combining the policy and the level's minimum. */
  readonly keepUntil?: string
  /** Whether the retention period says the document should now be erased (gallring due). */
  readonly due: boolean
}

/**
 * Whether a document may be erased at `now` (ms): never under legal hold; not through
 * `keepUntil`, nor within the classification's minimum retention counted from `since` (a
 * minimum without `since` cannot be shown to have passed, so it refuses).
 */
export function erasureStatus(
  retention: RetentionPolicy,
  policy: Pick<Policy, 'minRetentionDays'> | undefined,
  now: number,
): ErasureStatus {
  let keepUntil = retention.keepUntil
  const min = policy?.minRetentionDays ?? 0
  let unknownStart = false
  if (min > 0) {
    if (retention.since === undefined) unknownStart = true
    else {
      const floor = new Date(Date.parse(`${retention.since}T00:00:00Z`) + (min - 1) * DAY)
        .toISOString()
        .slice(0, 10)
      if (keepUntil === undefined || floor > keepUntil) keepUntil = floor
    }
  }
  const due = retention.deleteAfter !== undefined && now >= endOf(retention.deleteAfter)
  const base = { ...(keepUntil === undefined ? {} : { keepUntil }), due }
  if (retention.hold !== undefined) return { allowed: false, refusal: 'legal-hold', ...base }
  if (unknownStart || (keepUntil !== undefined && now < endOf(keepUntil))) {
    return { allowed: false, refusal: 'retention', ...base }
  }
  return { allowed: true, ...base }
}
