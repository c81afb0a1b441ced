import type { Role } from './roles.js'

/** A member as the public chain knows it: a per-document key and a role, never a name. */
export interface ChainMember {
  /** Chain index of the member's genesis or join entry; envelopes name the author by it. */
  readonly index: number
  /** The member's per-document Ed25519 public key. */
  readonly key: Uint8Array
  /** Current role; `Role.None` once removed. */
  readonly role: Role
  /** Admission the member joined through (absent for the creator). */
  readonly admission?: number
  /**
   * Set when the member lost the right to write (removed or demoted): the epoch current at that
   * moment and the highest counter the admin had seen from it. Content it sealed within both
   * stays readable (history, recovery); anything later is refused.
   */
  readonly wroteUntil?: { readonly epoch: number; readonly counter: number }
}

/** An admission (invite) as recorded in the chain. */
export interface ChainAdmission {
  /** Chain index of the admit entry. */
  readonly index: number
  /** The admission's Ed25519 public key. */
  readonly key: Uint8Array
  /** Role granted on joining. */
  readonly role: Role
  /** Unix seconds after which joins are refused; 0 = never. */
  readonly expiresAt: number
  /** Joins allowed; 0 = unlimited. */
  readonly maxUses: number
  /** Joins so far. */
  readonly uses: number
  /** Whether an admin revoked it. */
  readonly revoked: boolean
}

/**
 * Whether admission `a` can still be used at Unix time `at`: not revoked, uses left, and not past
 * `expiresAt`. The one rule for both sides of an admission: a join signed at `at` is accepted only
 * if it holds, and a rotation signed at `at` wraps its new epoch only for admissions for which
 * it holds. Both use the entry's signed `at`, so every member re-checks a chain to the same
 * verdict whatever its own clock says (the relay also bounds `at` by its clock).
 *
 * @example
 * ```ts
 * const state = new MembershipState(docId)
 * for (const entry of chain) state.append(entry)
 * const now = Math.floor(Date.now() / 1000)
 * const open = state.admissions.filter((a) => admissionUsable(a, now))
 * ```
 */
export function admissionUsable(a: ChainAdmission, at: number): boolean {
  return (
    !a.revoked &&
    (a.maxUses === 0 || a.uses < a.maxUses) &&
    (a.expiresAt === 0 || at <= a.expiresAt)
  )
}
