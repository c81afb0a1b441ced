import { admissionUsable, type ChainMember, type MembershipState, Role } from '@valv/protocol'

/**
 * Admissions still usable at `at` whose secret a removed member may hold, in chain order. While
 * usable, an admission receives every new epoch (rotations wrap it), so a removed member holding
 * its secret would keep reading; these must be revoked before the rotation that shuts it out.
 *
 * A removed member may hold: the secret of the admission it joined through (a link's secret
 * stays in the link, and a direct share's in every device of the card), and, if it ever was an
 * admin, every admission made before its removal (admins receive each admission's secret).
 * Members who joined through a revoked link stay members; only the link stops working.
 */
export function exposedAdmissions(state: MembershipState, at: number): number[] {
  const exposed = new Set<number>()
  for (const m of state.members) {
    if (m.role !== Role.None) continue
    if (m.admission !== undefined) exposed.add(m.admission)
    const removedAt = lastRoleChange(state, m.index, Role.None)
    if (everAdmin(state, m) && removedAt !== undefined) {
      for (const a of state.admissions) if (a.index < removedAt) exposed.add(a.index)
    }
  }
  return [...exposed]
    .sort((a, b) => a - b)
    .filter((i) => {
      const a = state.admission(i)
      return a !== undefined && admissionUsable(a, at)
    })
}

function everAdmin(state: MembershipState, m: ChainMember): boolean {
  if (m.index === 0) return true
  if (m.admission !== undefined && state.admission(m.admission)?.role === Role.Admin) return true
  return lastRoleChange(state, m.index, Role.Admin) !== undefined
}

/** Chain index of the newest set-role entry giving member `member` role `role`. */
function lastRoleChange(state: MembershipState, member: number, role: Role): number | undefined {
  const chain = state.chain
  for (let i = chain.length - 1; i >= 0; i--) {
    const b = chain[i]?.body
    if (b?.kind === 'set-role' && b.member === member && b.role === role) return i
  }
  return undefined
}
