import type { Role } from '@valv/protocol'
import type { KeyStore } from './key-store.js'
import type { SuiteId } from './primitives/aead.js'
import type { PaddingPolicy } from './primitives/padding.js'

/** Something that appends membership entries to the relay (a provider) with compare-and-append. */
export interface MembershipSink {
  /** Append `entry` at `index`; rejects if the chain no longer has exactly `index` entries. */
  appendMembership(index: number, entry: Uint8Array): Promise<void>
  /** Resolves once the sink is connected and caught up (a provider's `whenSynced`). */
  whenSynced?(): Promise<void>
}

/** Options shared by every way of obtaining a session. */
export interface SessionOptions {
  /** Local copy of the chain and keys, so the document opens offline. Default: memory only. */
  readonly keyStore?: KeyStore
  /** Size padding of sealed plaintexts (default `'padme'`). */
  readonly padding?: PaddingPolicy
}

/** Options of {@link DocumentSession.create}. */
export interface CreateDocumentOptions extends SessionOptions {
  /** Whether new members read history (`'share'`, default) or start at the current epoch. */
  readonly historyPolicy?: 'share' | 'need-to-know'
  /** Lowest role that writes content: `'editor'` (default) or `'commenter'` (comment documents). */
  readonly writeRole?: 'editor' | 'commenter'
  /** Cipher suite (default XChaCha20-Poly1305). */
  readonly suite?: SuiteId
  /** The organisation recovery public key ({@link RecoveryKey.publicKey}). */
  readonly recovery?: Uint8Array
}

/** Options of {@link DocumentSession.createInviteLink}. */
export interface InviteOptions {
  /** Role granted to whoever joins through the link. */
  readonly role: Role
  /** Expiry as a `Date` or Unix seconds; default never. */
  readonly expiresAt?: Date | number
  /** Allow one join only (default false). */
  readonly singleUse?: boolean
  /** Allow this many joins (overrides `singleUse`). */
  readonly maxUses?: number
}

/** A member as this session sees it (names come from encrypted certificates). */
export interface MemberInfo {
  /** Chain index of the member's entry (the author id in envelopes). */
  readonly index: number
  /** Hex of the user key, or `undefined` if the certificate could not be read. */
  readonly userId: string | undefined
  /** Display name from the certificate ('' if unknown). */
  readonly displayName: string
  /** Hex of the device key, if known. */
  readonly deviceId: string | undefined
  /** Current role. */
  readonly role: Role
  /** Whether this is the local device. */
  readonly self: boolean
  /** Chain index of the admission (invite or link) the member joined through; absent for the creator. */
  readonly admission?: number
}

/**
 * An invite (admission) that is not revoked and has uses left, as recorded in the chain.
 * Expired ones are listed too: their holders keep the keys they received before the expiry,
 * so an admin may still want to revoke them (revoking rotates).
 */
export interface InviteInfo {
  /** Chain index of the admit entry (pass it to `revokeInvite`). */
  readonly admission: number
  /** Role it grants. */
  readonly role: Role
  /** Unix seconds, 0 = never. */
  readonly expiresAt: number
  /** Whether it is past `expiresAt`: nobody can join through it and it gets no new keys. */
  readonly expired: boolean
  /** Joins left, `Infinity` if unlimited. */
  readonly usesLeft: number
  /** Hex user key it was created for (direct shares), if this session can read it. */
  readonly forUser: string | undefined
}

/** Called after the membership or the keys changed. */
export type ChangeListener = () => void
