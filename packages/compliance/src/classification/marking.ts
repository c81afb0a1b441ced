import type * as Y from 'yjs'
import type { AuditContext } from '../audit/context.js'
import { ComplianceError } from '../errors.js'
import { complianceMap } from '../meta.js'
import { type ClassificationScheme, levelOf } from './scheme.js'

/**
 * A secrecy marking (sekretessmarkering, OSL 5 kap. 5 §): the provision that applies, when and
 * by whom the assessment was made, and until when secrecy holds.
 */
export interface SecrecyMarking {
  /** The provision, e.g. `OSL 21 kap. 7 §`. */
  readonly provision: string
  /** Date of the marking, `YYYY-MM-DD`. */
  readonly date: string
  /** The authority (and unit) that made it. */
  readonly authority: string
  /** Last day secrecy applies (`YYYY-MM-DD`), if the provision limits it. */
  readonly until?: string
}

/**
 * A document's classification: a level of the integrator's scheme and, optionally, a secrecy
 * marking. Stored inside the encrypted document, so the relay never sees it, and carried in
 * every export.
 */
export interface Marking {
  /** Level id in the scheme, e.g. `K2`. */
  readonly level: string
  /** Integrity (riktighet) level 0–4 of the K/R/T model, if assessed. */
  readonly integrity?: number
  /** Availability (tillgänglighet) level 0–4, if assessed. */
  readonly availability?: number
  /** The secrecy marking, if the document holds secret information. */
  readonly secrecy?: SecrecyMarking
}

const DATE = /^\d{4}-\d{2}-\d{2}$/
const MAX_TEXT = 200

function text(v: unknown, name: string, optional = false): string | undefined {
  if (v === undefined && optional) return undefined
  if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_TEXT) {
    throw new ComplianceError('invalid-argument', `marking: bad ${name}`)
  }
  return v
}

function date(v: unknown, name: string, optional = false): string | undefined {
  if (v === undefined && optional) return undefined
  if (typeof v !== 'string' || !DATE.test(v) || Number.isNaN(Date.parse(v))) {
    throw new ComplianceError('invalid-argument', `marking: ${name} must be YYYY-MM-DD`)
  }
  return v
}

function grade(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 4) {
    throw new ComplianceError('invalid-argument', `marking: ${name} must be 0–4`)
  }
  return v as number
}

/** Check a marking against `scheme`; returns a clean copy. Throws `invalid-argument`/`unknown-level`. */
export function checkMarking(scheme: ClassificationScheme, m: Marking): Marking {
  if (typeof m !== 'object' || m === null) throw new ComplianceError('invalid-argument', 'marking')
  levelOf(scheme, text(m.level, 'level') as string)
  const integrity = grade(m.integrity, 'integrity')
  const availability = grade(m.availability, 'availability')
  let secrecy: SecrecyMarking | undefined
  if (m.secrecy !== undefined) {
    const s = m.secrecy
    const until = date(s.until, 'until', true)
    secrecy = {
      provision: text(s.provision, 'provision') as string,
      date: date(s.date, 'date') as string,
      authority: text(s.authority, 'authority') as string,
      ...(until === undefined ? {} : { until }),
    }
  }
  return {
    level: m.level,
    ...(integrity === undefined ? {} : { integrity }),
    ...(availability === undefined ? {} : { availability }),
    ...(secrecy === undefined ? {} : { secrecy }),
  }
}

/**
 * The marking stored in `doc`, or `undefined` if it has none. A stored value that no longer
 * fits `scheme` (edited by an old client, a level since removed) throws.
 */
export function readMarking(doc: Y.Doc, scheme: ClassificationScheme): Marking | undefined {
  const stored = complianceMap(doc).get('marking')
  if (stored === undefined) return undefined
  return checkMarking(scheme, stored as Marking)
}

/**
 * Set (or with `undefined`, remove) the document's marking, checked against `scheme`, in one
 * Yjs transaction, and record `classification.changed` in the audit trail. The audit entry
 * names the old and new level and whether a secrecy provision is set, never the provision
 * itself (the relay stores the trail; which provision applies can itself reveal content).
 *
 * @example
 * ```ts
 * const trail = await AuditTrail.open(session.docId)
 * const audit = { trail, signer: documentAuditSigner(session) }
 * const marking: Marking = {
 *   level: 'K2',
 *   secrecy: { provision: 'OSL 21 kap. 7 §', date: '2026-12-07', authority: 'Socialnämnden' },
 * }
 * await setMarking(ydoc, KRT_SCHEME, marking, audit)
 * ```
 */
export async function setMarking(
  doc: Y.Doc,
  scheme: ClassificationScheme,
  marking: Marking | undefined,
  audit?: AuditContext,
): Promise<void> {
  const next = marking === undefined ? undefined : checkMarking(scheme, marking)
  const map = complianceMap(doc)
  const before = map.get('marking') as Marking | undefined
  // Audit first: a change that could not be recorded is not made.
  await audit?.trail.append(audit.signer, {
    type: 'classification.changed',
    details: {
      from: before?.level ?? 'none',
      to: next?.level ?? 'none',
      secrecy: next?.secrecy === undefined ? 'no' : 'yes',
    },
  })
  doc.transact(() => {
    if (next === undefined) map.delete('marking')
    else map.set('marking', next)
  })
}
