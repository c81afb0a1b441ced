import { admissionUsable, type MembershipState, toHex } from '@valv/protocol'
import type { KeyRing } from './keyring.js'
import type { InviteInfo, MemberInfo } from './session-options.js'

/** `DocumentSession.members`: the chain's members, named where their certificate opens. */
export function listMembers(
  state: MembershipState,
  ring: KeyRing,
  self: number | undefined,
): MemberInfo[] {
  return state.members.map((m) => {
    const cert = ring.cert(m.index)
    return {
      index: m.index,
      userId: cert && toHex(cert.userKey),
      displayName: cert?.displayName ?? '',
      deviceId: cert && toHex(cert.device.deviceKey),
      role: m.role,
      self: m.index === self,
      ...(m.admission === undefined ? {} : { admission: m.admission }),
    }
  })
}

/** `DocumentSession.invites`: admissions not revoked and not used up, at Unix time `now`. */
export function listInvites(state: MembershipState, ring: KeyRing, now: number): InviteInfo[] {
  return state.admissions
    .filter((a) => !a.revoked && (a.maxUses === 0 || a.uses < a.maxUses))
    .map((a) => {
      const note = ring.note(a.index)
      return {
        admission: a.index,
        role: a.role,
        expiresAt: a.expiresAt,
        expired: !admissionUsable(a, now),
        usesLeft: a.maxUses === 0 ? Number.POSITIVE_INFINITY : a.maxUses - a.uses,
        forUser: note && toHex(note),
      }
    })
}
