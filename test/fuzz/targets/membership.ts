/**
 * Membership entries: decoded by the relay and clients, then appended to the chain with every
 * rule checked. The chain-append target's first input byte picks the chain position (so a real
 * entry is also tried at every other position); the rest is the entry. A rejected append must
 * leave the state untouched, and only the real entry at its own position may be accepted.
 */
import { CryptoError, decodeEntry, equalBytes, MembershipState } from '@valv/protocol'
import fc from 'fast-check'
import { InvariantBroken, type Target } from '../driver.js'
import type { Fixture } from '../fixtures.js'

/** Version 1 and a valid kind byte followed by random bytes, so generation reaches the fields. */
const entryish = fc
  .tuple(
    fc.constantFrom(1, 1, 0),
    fc.integer({ min: 0, max: 7 }),
    fc.uint8Array({ minLength: 120, maxLength: 400 }),
  )
  .map(([v, k, rest]) => Uint8Array.from([v, k, ...rest]))

const APPEND_CODES = [
  'malformed',
  'unsupported-version',
  'unsupported-suite',
  'bad-signature',
  'not-authorised',
  'fork-detected',
  'expired',
  'invalid-state',
]

/** `decodeEntry`. */
export function entryDecodeTarget(f: Fixture): Target {
  return {
    name: 'membership-entry',
    rejects: [{ error: CryptoError, codes: ['malformed', 'unsupported-version'] }],
    samples: f.chain,
    generate: fc.oneof(entryish, fc.uint8Array({ maxLength: 300 })),
    run: (input) => decodeEntry(input),
    memoryBound: 16 * 2 ** 20,
  }
}

/** Prefix states: `states[k]` holds the first `k` entries. */
export function prefixStates(docId: string, chain: readonly Uint8Array[]): MembershipState[] {
  const states = [new MembershipState(docId)]
  for (const e of chain) {
    const next = (states[states.length - 1] as MembershipState).clone()
    next.append(e)
    states.push(next)
  }
  return states
}

/** Append `entry` to a copy of `states[k]`; check that a rejection changed nothing. */
export function appendAt(states: readonly MembershipState[], k: number, entry: Uint8Array) {
  const base = states[k] as MembershipState
  const copy = base.clone()
  const head = copy.head
  try {
    return copy.append(entry, { now: Math.floor(Date.now() / 1000) })
  } catch (err) {
    if (copy.length !== base.length || !equalBytes(copy.head, head)) {
      throw new InvariantBroken('a rejected append changed the chain')
    }
    throw err
  }
}

/** `MembershipState.append` of a real document's chain. */
export function chainAppendTarget(f: Fixture): Target {
  const states = prefixStates(f.docId, f.chain)
  const samples = f.chain.map((e, k) => Uint8Array.from([k, ...e]))
  return {
    name: 'chain-append',
    rejects: [{ error: CryptoError, codes: APPEND_CODES }],
    samples,
    generate: fc
      .tuple(
        fc.integer({ min: 0, max: 255 }),
        fc.oneof(entryish, fc.uint8Array({ maxLength: 300 })),
      )
      .map(([k, e]) => Uint8Array.from([k, ...e])),
    run(input) {
      const k = (input[0] ?? 0) % f.chain.length
      const entry = input.subarray(1)
      appendAt(states, k, entry)
      if (!equalBytes(entry, f.chain[k] as Uint8Array)) {
        throw new InvariantBroken(`a forged entry was appended at ${k}`)
      }
    },
    memoryBound: 16 * 2 ** 20,
  }
}
