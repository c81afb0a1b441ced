import { ComplianceError } from '../errors.js'
import type { Marking } from './marking.js'
import { type ClassificationScheme, type ExportRule, type LevelRules, levelOf } from './scheme.js'

/** What a document's marking allows: the level's rules combined with the secrecy rules. */
export interface Policy extends LevelRules {
  /** The level the policy derives from (`undefined` for an unmarked document). */
  readonly level: string | undefined
  /** Whether a secrecy provision is marked. */
  readonly secret: boolean
}

const EXPORT_ORDER: readonly ExportRule[] = ['allowed', 'with-reason', 'forbidden']

/** The stricter of two rule sets. */
export function strictest(a: LevelRules, b: LevelRules): LevelRules {
  return {
    linkSharing: a.linkSharing && b.linkSharing,
    export: EXPORT_ORDER[
      Math.max(EXPORT_ORDER.indexOf(a.export), EXPORT_ORDER.indexOf(b.export))
    ] as ExportRule,
    offlineCopies: a.offlineCopies && b.offlineCopies,
    recoveryKeyRequired: a.recoveryKeyRequired || b.recoveryKeyRequired,
    minRetentionDays: Math.max(a.minRetentionDays, b.minRetentionDays),
  }
}

/**
 * Derive what is allowed from a marking. An unmarked document gets the rules of the scheme's
 * lowest level (integrators who want "unmarked = strict" make their lowest level strict).
 *
 * @example
 * ```ts
 * const policy = policyFor(KRT_SCHEME, readMarking(ydoc, KRT_SCHEME))
 * element.hidden = !policy.linkSharing // the "share by link" button
 * ```
 */
export function policyFor(scheme: ClassificationScheme, marking: Marking | undefined): Policy {
  const level = marking === undefined ? scheme.levels[0] : levelOf(scheme, marking.level)
  if (level === undefined) throw new ComplianceError('invalid-argument', 'scheme has no levels')
  const secret = marking?.secrecy !== undefined
  const rules = secret ? strictest(level.rules, scheme.secrecyRules) : level.rules
  return { ...rules, level: marking?.level, secret }
}

/** Actions {@link assertAllowed} checks. */
export type PolicyAction = 'export' | 'link-sharing' | 'offline-copy'

/**
 * Throw `not-authorised` unless `policy` allows `action`; an export the policy allows only
 * `with-reason` needs a non-empty `reason` (which the caller then audits).
 */
export function assertAllowed(policy: Policy, action: PolicyAction, reason?: string): void {
  const refuse = (why: string) => {
    throw new ComplianceError('not-authorised', `${action} refused: ${why}`)
  }
  const at = `level ${policy.level ?? 'unmarked'}${policy.secret ? ' with secrecy marking' : ''}`
  if (action === 'link-sharing' && !policy.linkSharing) refuse(`no links at ${at}`)
  if (action === 'offline-copy' && !policy.offlineCopies) refuse(`no offline copies at ${at}`)
  if (action === 'export') {
    if (policy.export === 'forbidden') refuse(`no export at ${at}`)
    if (policy.export === 'with-reason' && (reason === undefined || reason.trim() === '')) {
      refuse(`export at ${at} needs a reason`)
    }
  }
}
