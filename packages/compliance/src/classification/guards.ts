import { type InviteOptions, roleName } from '@valv/crypto'
import type { AuditContext } from '../audit/context.js'
import { assertAllowed, type Policy } from './policy.js'

/** The part of a `DocumentSession` {@link createPolicyLink} needs. */
export interface LinkIssuer {
  /** `DocumentSession.createInviteLink`. */
  createInviteLink(options: InviteOptions): Promise<string>
}

/**
 * Create an invite link only if the document's policy allows links, and audit it as
 * `link.created` (role, expiry and use limit; never the link itself, which is a bearer secret).
 * Throws `not-authorised` (nothing created, nothing audited) when the policy forbids links.
 *
 * @example
 * ```ts
 * const trail = await AuditTrail.open(session.docId)
 * const audit = { trail, signer: documentAuditSigner(session) }
 * const policy = policyFor(KRT_SCHEME, readMarking(ydoc, KRT_SCHEME))
 * const options = { role: Role.Viewer, singleUse: true }
 * const link = await createPolicyLink(session, policy, options, audit) // throws if forbidden
 * ```
 */
export async function createPolicyLink(
  session: LinkIssuer,
  policy: Policy,
  options: InviteOptions,
  audit: AuditContext,
): Promise<string> {
  assertAllowed(policy, 'link-sharing')
  const link = await session.createInviteLink(options)
  const expires = options.expiresAt
  await audit.trail.append(audit.signer, {
    type: 'link.created',
    details: {
      role: roleName(options.role),
      ...(expires === undefined
        ? {}
        : { expiresAt: String(expires instanceof Date ? expires.getTime() / 1000 : expires) }),
      ...(options.maxUses !== undefined
        ? { maxUses: String(options.maxUses) }
        : options.singleUse
          ? { maxUses: '1' }
          : {}),
    },
  })
  return link
}

/** What an export is for, for {@link authorizeExport}. */
export interface ExportRequest {
  /** The format written, e.g. `odt`. */
  readonly format: string
  /** Why (a case number, "utlämnande", "arkivleverans"); required where the policy says so. */
  readonly reason?: string
}

/**
 * Check that `policy` allows an export and record it as `export` (format and reason) before any
 * byte is produced. Throws `not-authorised` (nothing recorded) when refused. Export functions
 * of this package call it when given a policy; call it yourself around other exports. Keep
 * reasons free of content: the relay stores the trail.
 */
export async function authorizeExport(
  policy: Policy,
  request: ExportRequest,
  audit: AuditContext,
): Promise<void> {
  assertAllowed(policy, 'export', request.reason)
  await audit.trail.append(audit.signer, {
    type: 'export',
    details: {
      format: request.format,
      level: policy.level ?? 'unmarked',
      ...(request.reason === undefined ? {} : { reason: request.reason }),
    },
  })
}
