import {
  type DocumentSession,
  type InviteOptions,
  type PublicCard,
  type Role,
  roleName,
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
 * change made through the session directly is not recorded.
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
