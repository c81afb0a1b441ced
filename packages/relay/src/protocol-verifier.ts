import {
  CryptoError,
  decodeEnvelope,
  equalBytes,
  MembershipState,
  type SnapshotHeader,
  verifyBlobGrant,
  verifyConfirmation,
  verifyEnvelopeAsync,
  verifyEraseRequest,
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
  /**
   * Bytes of membership entries whose decoded chains are cached, over all documents (default
   * 64 MiB); the least recently used chains beyond are dropped and rebuilt on demand.
   */
  readonly cacheBytes?: number
}

interface CachedChain {
  state: MembershipState
  last: Uint8Array | undefined
  bytes: number
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
  // Per document: the verified chain and the stored bytes of its newest entry. The relay keeps
  // the same Uint8Array objects, so the per-message freshness check is a reference comparison.
  const cache = new Map<string, CachedChain>()
  const limit = options.cacheSize ?? 1000
  const byteLimit = options.cacheBytes ?? 64 * 1024 * 1024
  let cachedBytes = 0

  function drop(docId: string): void {
    const c = cache.get(docId)
    if (c === undefined) return
    cache.delete(docId)
    cachedBytes -= c.bytes
  }

  function stateFor(ctx: VerifyContext): MembershipState {
    const stored = ctx.membership
    let c = cache.get(ctx.docId)
    drop(ctx.docId)
    const n = c?.state.length ?? 0
    const head = n === 0 ? undefined : stored[n - 1]
    const same =
      head === c?.last || (head !== undefined && c?.last !== undefined && equalBytes(head, c.last))
    if (c === undefined || n > stored.length || !same) {
      c = { state: new MembershipState(ctx.docId), last: undefined, bytes: 0 }
    }
    try {
      for (let i = c.state.length; i < stored.length; i++) {
        const entry = stored[i] as Uint8Array
        c.state.append(entry)
        c.last = entry
        c.bytes += entry.length
      }
    } catch (err) {
      reject(err, 'membership-invalid')
    }
    cache.set(ctx.docId, c)
    cachedBytes += c.bytes
    // Least recently used first; the chain just used stays even if it alone exceeds the bound.
    while (cache.size > 1 && (cache.size > limit || cachedBytes > byteLimit)) {
      drop(cache.keys().next().value as string)
    }
    return c.state
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
    async verifyPresence(ctx, payload) {
      try {
        const v = await verifyEnvelopeAsync(stateFor(ctx), payload, { kind: 'presence' })
        return { author: String(v.author) }
      } catch (err) {
        return reject(err, 'forbidden')
      }
    },
    forget(docId) {
      drop(docId)
    },
    async verifySnapshot(ctx, snapshot) {
      try {
        const state = stateFor(ctx)
        const v = await verifyEnvelopeAsync(state, snapshot, { kind: 'snapshot' })
        const h = v.snapshot as SnapshotHeader
        const soleWriter = !state.members.some(
          (m) => m.index !== v.author && m.role >= state.writeRole,
        )
        return { author: String(v.author), ...h, soleWriter }
      } catch (err) {
        return reject(err, 'snapshot-invalid')
      }
    },
    async verifyConfirmation(ctx, confirmation, id) {
      try {
        const v = await verifyConfirmation(stateFor(ctx), confirmation, id)
        return { author: String(v.author) }
      } catch (err) {
        return reject(err, 'snapshot-invalid')
      }
    },
    async verifyBlobGrant(ctx, grant, fields) {
      try {
        const v = await verifyBlobGrant(stateFor(ctx), grant, fields)
        return { author: v.authorId }
      } catch (err) {
        return reject(err, 'forbidden')
      }
    },
    async verifyEraseRequest(ctx, request, sessionId) {
      try {
        const v = await verifyEraseRequest(stateFor(ctx), request, sessionId)
        return { author: `member:${v.author}` }
      } catch (err) {
        return reject(err, 'forbidden')
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
