/**
 * The security events Valv's own calls record. Integrators may record their own types too
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
] as const

/** One of {@link AUDIT_EVENT_TYPES}, or an integrator's own dotted name. */
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number] | (string & {})

/**
 * What happened, without content: who or what it concerns (`subject`: a member key, user id,
 * admission index, device id) and short facts (`details`: role names, epoch numbers, a level,
 * a reason). Never put document text, titles or file names here: the relay stores the trail.
 */
export interface AuditEvent {
  /** The kind of event. */
  readonly type: AuditEventType
  /** Pseudonymous id of whom or what the event concerns, if anyone. */
  readonly subject?: string
  /** Short facts as text, keys sorted when encoded (at most 16 entries). */
  readonly details?: Readonly<Record<string, string>>
}

/** Limits that keep records small and keep content out (checked on append and on decode). */
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
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$/
