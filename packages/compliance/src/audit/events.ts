/**
 * The security events Valv's own calls and the relay record (`write.refused`,
 * `membership.appended` and `erasure` come from the relay's own trail). Integrators may record their own types too
 * (any lower-case dotted name, e.g. `x.case-registered`); a verifier treats all alike.
 */
export const AUDIT_EVENT_TYPES = [
  'member.added',
  'member.removed',
  'member.role-changed',
  'device.removed',
  'key.rotated',
  'link.created',
  'link.used',
  'member.joined',
  'link.revoked',
  'export',
  'erasure',
  'erasure.refused',
  'recovery.used',
  'classification.changed',
  'retention.changed',
  'hold.placed',
  'hold.released',
  'access.denied',
  'write.refused',
  'membership.appended',
] as const

/** One of {@link AUDIT_EVENT_TYPES}, or an integrator's own dotted name. */
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number] | (string & {})

export { AUDIT_LIMITS, type AuditEvent } from '@valv/protocol'
