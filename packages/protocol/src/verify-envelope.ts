import { domainMessage, toHex, utf8 } from './bytes.js'
import { ed25519SignedAnyway } from './ed25519-rule.js'
import { decodeEnvelope, type Envelope, type EnvelopeKindName } from './envelope.js'
import { CryptoError } from './errors.js'
import type { ChainMember } from './membership-records.js'
import type { MembershipState } from './membership-state.js'
import { Role } from './roles.js'
import { verifyDomain, verifyDomainAsync } from './signature.js'

/** An envelope whose signature and author role were checked against the membership chain. */
export interface VerifiedEnvelope extends Envelope {
  /** The author as the chain knows it. */
  readonly member: ChainMember
  /** Hex of the author's per-document key: a stable, pseudonymous author id. */
  readonly authorId: string
}

/** Options for {@link verifyEnvelope}. */
export interface VerifyEnvelopeOptions {
  /** The kind the caller expects; a different kind is `malformed`. */
  readonly kind?: EnvelopeKindName
  /** Largest accepted envelope in bytes; larger is `too-large` (checked before anything else). */
  readonly maxBytes?: number
  /**
   * Skip the role check (not the signature) for this author index: a member's own local data
   * (offline queue, checkpoints) must open even after its role changed.
   */
  readonly selfIndex?: number
  /**
   * Readers of history set this: content by a member who has since lost the write role is
   * accepted if its epoch and counter are within the member's `wroteUntil` (recorded by the
   * set-role entry). The relay leaves it off, so it refuses every new write by such a member.
   */
  readonly formerWriters?: boolean
  /**
   * On a signature outside the acceptance rule, also check whether only the author's key could
   * have made it (see `ed25519SignedAnyway`); if so the `bad-signature` error names the author in
   * {@link CryptoError.author}. Readers set it to blame the right party; the relay leaves it off,
   * since it would cost a pure-JS verification per forged write.
   */
  readonly attribute?: boolean
}

/**
 * The lowest role that may author an envelope of `kind` in a document whose write role is
 * `writeRole`. Checkpoints are private to their author and never accepted from others.
 */
export function requiredRole(kind: EnvelopeKindName, writeRole: Role): Role {
  if (kind === 'update' || kind === 'snapshot' || kind === 'state') return writeRole
  if (kind === 'presence') return Role.Viewer
  return Role.None
}

/**
 * Public verification of an envelope: size, structure, the author's signature (with the
 * document id bound in) and the author's current role for the kind, and that the epoch exists.
 * Needs no content key, so the relay runs it on every write. Throws `too-large`, `malformed`,
 * `unsupported-version`, `bad-signature`, `not-authorised` or `unknown-epoch`.
 *
 * Counter freshness is per reader state and checked by {@link CounterWindow}.
 *
 * @example
 * ```ts
 * const state = new MembershipState(docId)
 * for (const entry of chain) state.append(entry)
 * const counters = new CounterWindow()
 * const v = verifyEnvelope(state, bytes, { kind: 'update', maxBytes: 1 << 20 })
 * counters.accept(v.authorId, v.counter)
 * ```
 */
export function verifyEnvelope(
  state: MembershipState,
  bytes: Uint8Array,
  options: VerifyEnvelopeOptions = {},
): VerifiedEnvelope {
  const { env, member } = precheck(state, bytes, options)
  if (!verifyDomain('envelope', member.key, env.signature, utf8(state.docId), env.signed)) {
    throw badSignature(state, env, member, options)
  }
  return postcheck(state, env, member, options)
}

/**
 * {@link verifyEnvelope} with the signature checked by native WebCrypto Ed25519 where the
 * platform has it (several times faster than pure JS); same rules, same errors.
 */
export async function verifyEnvelopeAsync(
  state: MembershipState,
  bytes: Uint8Array,
  options: VerifyEnvelopeOptions = {},
): Promise<VerifiedEnvelope> {
  const { env, member } = precheck(state, bytes, options)
  const ok = await verifyDomainAsync(
    'envelope',
    member.key,
    env.signature,
    utf8(state.docId),
    env.signed,
  )
  if (!ok) throw badSignature(state, env, member, options)
  return postcheck(state, env, member, options)
}

function badSignature(
  state: MembershipState,
  env: Envelope,
  member: ChainMember,
  options: VerifyEnvelopeOptions,
): CryptoError {
  const message = domainMessage('envelope', utf8(state.docId), env.signed)
  if (options.attribute === true && ed25519SignedAnyway(env.signature, message, member.key)) {
    return new CryptoError('bad-signature', 'the author signed outside the acceptance rule', {
      author: toHex(member.key),
    })
  }
  return new CryptoError('bad-signature', 'envelope signature does not verify')
}

function precheck(state: MembershipState, bytes: Uint8Array, options: VerifyEnvelopeOptions) {
  if (options.maxBytes !== undefined && bytes.length > options.maxBytes) {
    throw new CryptoError('too-large', `envelope of ${bytes.length} bytes exceeds the limit`)
  }
  const env = decodeEnvelope(bytes)
  if (options.kind !== undefined && env.kind !== options.kind) {
    throw new CryptoError('malformed', `expected a ${options.kind} envelope, got ${env.kind}`)
  }
  const member = state.member(env.author)
  if (member === undefined) throw new CryptoError('not-authorised', 'author is not a member')
  return { env, member }
}

function postcheck(
  state: MembershipState,
  env: Envelope,
  member: ChainMember,
  options: VerifyEnvelopeOptions,
): VerifiedEnvelope {
  const self = options.selfIndex === env.author
  if (env.kind === 'checkpoint' && !self) {
    throw new CryptoError('not-authorised', 'checkpoints are accepted only from oneself')
  }
  const needed = Math.max(requiredRole(env.kind, state.writeRole), Role.Viewer)
  const until = member.wroteUntil
  const former =
    options.formerWriters === true &&
    until !== undefined &&
    env.epoch <= until.epoch &&
    env.counter <= until.counter &&
    needed <= state.writeRole
  if (!self && !former && member.role < needed) {
    throw new CryptoError('not-authorised', `role does not allow ${env.kind}`)
  }
  if (env.epoch > state.epoch) throw new CryptoError('unknown-epoch', `epoch ${env.epoch}`)
  return { ...env, member, authorId: toHex(member.key) }
}
