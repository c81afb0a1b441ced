/**
 * Roles of document members, ordered: each role may do everything the roles below it may.
 * `None` is the role of a removed member (and of anyone not in the chain).
 */
export const Role = {
  /** Not a member, or removed. */
  None: 0,
  /** Reads content and sends presence. */
  Viewer: 1,
  /** Reads content; writes to documents whose write role is `Commenter` (comment documents). */
  Commenter: 2,
  /** Reads and writes content. */
  Editor: 3,
  /** Also changes membership: admits, removes, changes roles, rotates keys. */
  Admin: 4,
} as const

/** One of the {@link Role} values. */
export type Role = (typeof Role)[keyof typeof Role]

/** Whether `n` is a {@link Role} value. */
export function isRole(n: number): n is Role {
  return Number.isInteger(n) && n >= Role.None && n <= Role.Admin
}

/** Human-readable role name (for logs and UIs), e.g. `roleName(Role.Editor) === 'editor'`. */
export function roleName(role: Role): 'none' | 'viewer' | 'commenter' | 'editor' | 'admin' {
  return (['none', 'viewer', 'commenter', 'editor', 'admin'] as const)[role]
}
