import {
  CryptoError,
  decodeEntry,
  decodeEnvelope,
  equalBytes,
  MembershipState,
  verifyEnvelopeAsync,
} from '@valv/protocol'
import type { RejectCodeValue } from '@valv/wire'
import { RelayError } from './errors.js'
import type { EnvelopeVerifier, VerifyContext } from './verifier.js'

/** Options of {@link defaultVerifier}. */
export interface ProtocolVerifierOptions {
  /** Allowed difference between a membership entry's signed time and the relay clock (s). */
  readonly maxSkewSeconds?: number
  /** Documents whose chain state is cached (least recently used beyond are rebuilt). */
  readonly cacheSize?: number
}

function reject(err: unknown, fallback: RejectCodeValue): never {
  if (!(err instanceof CryptoError)) throw err
  const code: RejectCodeValue =
    err.code === 'bad-signature'
      ? 'bad-signature'
      : err.code === 'not-authorised' || err.code === 'expired'
        ? 'forbidden'
        : err.code === 'too-large'
          ? 'too-large'
          : err.code === 'replay'
            ? 'stale'
            : fallback
  throw new RelayError(code, err.message)
}

/**
 * The relay's verifier: `@valv/protocol`'s public verification (signatures, roles from the
 * membership chain, epochs, the membership rules). It needs no content key. Chain state per
 * document is cached and rebuilt from the stored chain whenever the two disagree.
 *
 * @example
 * ```ts
 * const relay = new Relay({ storage, verifier: defaultVerifier() })
 * ```
 */
export function defaultVerifier(options: ProtocolVerifierOptions = {}): EnvelopeVerifier {
  const cache = new Map<string, MembershipState>()
  const limit = options.cacheSize ?? 1000

  function stateFor(ctx: VerifyContext): MembershipState {
    let s = cache.get(ctx.docId)
    cache.delete(ctx.docId)
    const stored = ctx.membership
    const last = s === undefined || s.length === 0 ? undefined : s.chain[s.length - 1]
    const lastStored = last === undefined ? undefined : stored[last.index]
    const stale =
      s === undefined ||
      s.length > stored.length ||
      (last !== undefined &&
        (lastStored === undefined ||
          !equalBytes(decodeEntry(lastStored).signature, last.signature)))
    if (stale) s = new MembershipState(ctx.docId)
    const state = s as MembershipState
    try {
      for (let i = state.length; i < stored.length; i++) state.append(stored[i] as Uint8Array)
    } catch (err) {
      reject(err, 'membership-invalid')
    }
    cache.set(ctx.docId, state)
    if (cache.size > limit) cache.delete(cache.keys().next().value as string)
    return state
  }

  return {
    async verifyUpdate(ctx, envelope) {
      try {
        const v = await verifyEnvelopeAsync(stateFor(ctx), envelope, { kind: 'update' })
        return { author: String(v.author), counter: v.counter }
      } catch (err) {
        return reject(err, 'malformed')
      }
    },
    verifyMembershipEntry(ctx, entry) {
      // Checked on a copy: the cached state advances only once the relay stored the entry.
      const copy = stateFor(ctx).clone()
      try {
        copy.append(entry, {
          now: Math.floor(Date.now() / 1000),
          maxSkewSeconds: options.maxSkewSeconds ?? 600,
        })
      } catch (err) {
        reject(err, 'membership-invalid')
      }
    },
    async verifySnapshot(ctx, snapshot) {
      try {
        await verifyEnvelopeAsync(stateFor(ctx), snapshot, { kind: 'snapshot' })
      } catch (err) {
        reject(err, 'snapshot-invalid')
      }
    },
    peekUpdate(envelope) {
      try {
        const e = decodeEnvelope(envelope)
        return { author: String(e.author), counter: e.counter }
      } catch (err) {
        return reject(err, 'malformed')
      }
    },
  }
}
