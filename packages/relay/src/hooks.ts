import type { IncomingMessage } from 'node:http'

/** Mutable per-session data that `onAuthenticate` fills (user id, roles…); never logged. */
export type SessionContext = Record<string, unknown>

/** Payload of `onConnect`: a socket was opened, before authentication. */
export interface ConnectPayload {
  /** Relay-assigned session id. */
  readonly sessionId: string
  /** The HTTP upgrade request (headers, cookies, address). */
  readonly request: IncomingMessage
}
/** Payload of `onAuthenticate`: verify `token` (OIDC/JWT…) and fill `context`; throw to veto. */
export interface AuthenticatePayload {
  /** Relay-assigned session id. */
  readonly sessionId: string
  /** Opaque credential checked by `onAuthenticate` (e.g. an OIDC/JWT access token). */
  readonly token: string
  /** The HTTP upgrade request (headers, cookies, address). */
  readonly request: IncomingMessage
  /** What `onAuthenticate` stored for this session. */
  readonly context: SessionContext
}
/** Payload of `onAuthorize`: may this session read and write `docId`? Throw to veto. */
export interface AuthorizePayload {
  /** Relay-assigned session id. */
  readonly sessionId: string
  /** Document the frame is about. */
  readonly docId: string
  /** What `onAuthenticate` stored for this session. */
  readonly context: SessionContext
}
/** Payload of `onChange`: content-free notification that a document changed (after durability). */
export interface ChangePayload {
  /** Document the frame is about. */
  readonly docId: string
  /** What was stored. */
  readonly kind: 'update' | 'membership' | 'snapshot'
  /** Sequence number (update), chain index (membership) or `upToSeq` (snapshot). */
  readonly seq: number
  /** Relay-assigned session id. */
  readonly sessionId: string
}
/** Payload of `onDisconnect`. */
export interface DisconnectPayload {
  /** Relay-assigned session id. */
  readonly sessionId: string
  /** What `onAuthenticate` stored for this session. */
  readonly context: SessionContext
  /** Stable code. */
  readonly code: number
}

/**
 * A relay extension in the Hocuspocus manner: any subset of hooks, run in descending
 * `priority` order (default 100), each awaited before the next. A hook that throws vetoes
 * `onConnect`, `onAuthenticate` and `onAuthorize`; errors of `onChange` / `onDisconnect` are
 * logged and ignored.
 *
 * @example
 * ```ts
 * declare function verifyJwt(token: string): Promise<string> // your identity provider's check
 * const jwt: RelayExtension = {
 *   async onAuthenticate({ token, context }) {
 *     context.user = await verifyJwt(token) // throws → connection closed with 4401
 *   },
 * }
 * ```
 */
export interface RelayExtension {
  /** Higher runs first. */
  readonly priority?: number
  /** A socket opened (before authentication); throw to refuse it. */
  onConnect?(payload: ConnectPayload): void | Promise<void>
  /** Check the `auth` frame credential; throw to close with 4401. */
  onAuthenticate?(payload: AuthenticatePayload): void | Promise<void>
  /** Check access to one document on `subscribe`; throw to refuse it. */
  onAuthorize?(payload: AuthorizePayload): void | Promise<void>
  /** A write became durable (content-free); errors are logged only. */
  onChange?(payload: ChangePayload): void | Promise<void>
  /** A socket closed; errors are logged only. */
  onDisconnect?(payload: DisconnectPayload): void | Promise<void>
}

type HookName = 'onConnect' | 'onAuthenticate' | 'onAuthorize' | 'onChange' | 'onDisconnect'
type PayloadOf<H extends HookName> = Parameters<NonNullable<RelayExtension[H]>>[0]

/** Runs hooks in priority order; throws the first veto. */
export class Hooks {
  private readonly ordered: readonly RelayExtension[]

  constructor(extensions: readonly RelayExtension[]) {
    this.ordered = [...extensions].sort((a, b) => (b.priority ?? 100) - (a.priority ?? 100))
  }

  /** Whether any extension implements `name`. */
  has(name: HookName): boolean {
    return this.ordered.some((e) => e[name] !== undefined)
  }

  async run<H extends HookName>(name: H, payload: PayloadOf<H>): Promise<void> {
    for (const ext of this.ordered) {
      const hook = ext[name] as ((p: PayloadOf<H>) => void | Promise<void>) | undefined
      if (hook) await hook.call(ext, payload)
    }
  }
}
