import {
  DocumentSession,
  type InviteOptions,
  type PublicCard,
  type RecoveryKey,
  type Role,
  roleName,
  type SessionOptions,
} from '@valv/crypto'
import type { AuditContext } from './context.js'

/**
 * A `DocumentSession`'s membership operations, each recorded in the audit trail once it has
 * succeeded: `share` → `member.added`, `setRole` → `member.role-changed`, `unshare` →
 * `member.removed` + `key.rotated`, `removeDevice` → `device.removed` + `key.rotated`,
 * `rotate` → `key.rotated`, `createInviteLink` → `link.created`, `revokeInvite` →
 * `link.revoked`. Subjects are chain positions (`member:<index>`, `admission:<index>`), which
 * the relay already sees, never user keys or names (those stay inside the encrypted chain; an
 * auditor with the document resolves them with `members()`).
 *
 * Record on the device that makes the change (the admin's), so each change is written once. A
 * change made through the session directly is not recorded. {@link AuditedSession.watch} also
 * records joins as the admin's device sees them arrive: `link.used` for a join through an
 * invite link, `member.joined` for one through a direct share.
 *
 * @example
 * ```ts
 * const trail = await AuditTrail.open(session.docId)
 * const admin = new AuditedSession(session, { trail, signer: documentAuditSigner(session) })
 * const colleague = PublicCard.parse(colleagueCard)
 * await admin.share(colleague, Role.Editor) // recorded as member.added
 * await admin.unshare(colleague.userId) // member.removed, then key.rotated
 * ```
 */
export class AuditedSession {
  /** Admissions this device saw, and whether each was a link (`true`) or a direct share. */
  private readonly admissions = new Map<number, boolean>()
  private readonly seen = new Set<number>()
  private pending: Promise<unknown> = Promise.resolve()

  /**
   * @param session The admin's session.
   * @param audit Where to record.
   */
  constructor(
    /** The wrapped session (changes made through it directly are not recorded). */
    readonly session: DocumentSession,
    private readonly audit: AuditContext,
  ) {}

  private record(type: string, subject?: string, details?: Record<string, string>) {
    return this.audit.trail.append(this.audit.signer, {
      type,
      ...(subject === undefined ? {} : { subject }),
      ...(details === undefined ? {} : { details }),
    })
  }

  /**
   * Record joins from now on, as this (admin's) device sees the chain grow: a member that joined
   * through an invite link as `link.used` (subject `admission:<index>`, details: the new member's
   * chain position and role), one that joined through a direct share as `member.joined`.
   * Members already present are not recorded. Returns a function that stops recording; records
   * are written in order, {@link AuditedSession.settled} waits for them.
   *
   * @example
   * ```ts
   * const trail = await AuditTrail.open(session.docId)
   * const admin = new AuditedSession(session, { trail, signer: documentAuditSigner(session) })
   * const stop = admin.watch()
   * const link = await admin.createInviteLink({ role: Role.Editor, singleUse: true })
   * // …a colleague joins through the link: the trail gets link.used for its admission
   * await admin.settled()
   * stop()
   * ```
   */
  watch(): () => void {
    this.noteAdmissions()
    for (const m of this.session.members()) this.seen.add(m.index)
    return this.session.onChange(() => this.onChange())
  }

  /** Resolves once every record {@link AuditedSession.watch} started is written (or failed). */
  async settled(): Promise<void> {
    await this.pending
  }

  private noteAdmissions(): void {
    for (const i of this.session.invites()) {
      if (!this.admissions.has(i.admission))
        this.admissions.set(i.admission, i.forUser === undefined)
    }
  }

  private onChange(): void {
    // The admit entry comes before the join through it, so a used-up link was noted already.
    this.noteAdmissions()
    for (const m of this.session.members()) {
      if (this.seen.has(m.index)) continue
      this.seen.add(m.index)
      if (m.admission === undefined) continue
      const link = this.admissions.get(m.admission)
      const type = link === false ? 'member.joined' : 'link.used'
      const details = { member: `member:${m.index}`, role: roleName(m.role) }
      const subject = `admission:${m.admission}`
      this.pending = this.pending
        .then(() => this.record(type, subject, details))
        .catch(() => {
          // A failed record must not break the session's listener; the trail stays consistent.
        })
    }
  }

  private memberIndexes(userId: string): number[] {
    return this.session
      .members()
      .filter((m) => m.userId === userId)
      .map((m) => m.index)
  }

  private rotated() {
    return this.record('key.rotated', undefined, { epoch: String(this.session.epoch) })
  }

  /** `DocumentSession.share`, recorded as `member.added` naming the admission created. */
  async share(card: PublicCard, role: Role): Promise<void> {
    const before = new Set(this.session.invites().map((i) => i.admission))
    await this.session.share(card, role)
    const admission = this.session.invites().find((i) => !before.has(i.admission))?.admission
    if (admission !== undefined) this.admissions.set(admission, false)
    await this.record(
      'member.added',
      admission === undefined ? undefined : `admission:${admission}`,
      {
        role: roleName(role),
      },
    )
  }

  /** `DocumentSession.setRole`, recorded once per device of the user. */
  async setRole(userId: string, role: Role): Promise<void> {
    const members = this.memberIndexes(userId)
    await this.session.setRole(userId, role)
    for (const index of members) {
      await this.record('member.role-changed', `member:${index}`, { role: roleName(role) })
    }
  }

  /** `DocumentSession.unshare`, recorded per device, then the rotation. */
  async unshare(userId: string): Promise<void> {
    const members = this.memberIndexes(userId)
    await this.session.unshare(userId)
    for (const index of members) await this.record('member.removed', `member:${index}`)
    await this.rotated()
  }

  /** `DocumentSession.removeDevice`, recorded with the rotation it causes. */
  async removeDevice(deviceId: string): Promise<void> {
    const index = this.session.members().find((m) => m.deviceId === deviceId)?.index
    await this.session.removeDevice(deviceId)
    await this.record('device.removed', index === undefined ? undefined : `member:${index}`)
    await this.rotated()
  }

  /** `DocumentSession.rotate`, recorded with the new epoch. */
  async rotate(): Promise<void> {
    await this.session.rotate()
    await this.rotated()
  }

  /** `DocumentSession.createInviteLink`, recorded with role and limits (never the link). */
  async createInviteLink(options: InviteOptions): Promise<string> {
    const before = new Set(this.session.invites().map((i) => i.admission))
    const link = await this.session.createInviteLink(options)
    const admission = this.session.invites().find((i) => !before.has(i.admission))?.admission
    if (admission !== undefined) this.admissions.set(admission, true)
    const expires = options.expiresAt
    await this.record(
      'link.created',
      admission === undefined ? undefined : `admission:${admission}`,
      {
        role: roleName(options.role),
        ...(expires === undefined
          ? {}
          : {
              expiresAt: String(
                expires instanceof Date ? Math.floor(expires.getTime() / 1000) : expires,
              ),
            }),
        ...(options.maxUses !== undefined
          ? { maxUses: String(options.maxUses) }
          : options.singleUse
            ? { maxUses: '1' }
            : {}),
      },
    )
    return link
  }

  /** `DocumentSession.revokeInvite`, recorded as `link.revoked`. */
  async revokeInvite(admission: number): Promise<void> {
    await this.session.revokeInvite(admission)
    await this.record('link.revoked', `admission:${admission}`)
  }
}

/**
 * Open a document with the organisation's recovery key (`DocumentSession.recover`), recording
 * `recovery.used` first: the session is returned only once the record is durable, so recovery
 * through this call never goes unrecorded. `audit.signer` is a service key (the recovery
 * session itself has no member key), e.g. `ed25519AuditSigner` of the tool that holds the
 * recovery key; `reason` says why (a public-access request, a departed employee's files).
 *
 * @example
 * ```ts
 * declare const recoveryKey: RecoveryKey // from the organisation's key custody
 * declare const toolKey: Uint8Array // the recovery tool's own audit key
 * const trail = await AuditTrail.open(docId, { store: storage })
 * const reader = await recoverAudited(recoveryKey, docId, {
 *   audit: { trail, signer: ed25519AuditSigner(toolKey) },
 *   reason: 'begäran om allmän handling, dnr 2026/81',
 * })
 * ```
 */
export async function recoverAudited(
  recovery: RecoveryKey,
  docId: string,
  options: {
    /** Where to record. */
    readonly audit: AuditContext
    /** Why the recovery key is used (no content; at most 512 characters). */
    readonly reason?: string
    /** Passed to `DocumentSession.recover`. */
    readonly session?: SessionOptions
  },
): Promise<DocumentSession> {
  const { audit, reason } = options
  await audit.trail.append(audit.signer, {
    type: 'recovery.used',
    subject: docId,
    ...(reason === undefined ? {} : { details: { reason } }),
  })
  return DocumentSession.recover(recovery, docId, options.session)
}
