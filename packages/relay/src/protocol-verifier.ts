import { RelayError } from './errors.js'
import type { EnvelopeVerifier } from './verifier.js'

/**
 * The verifier the CLI uses. `@valv/protocol`'s public verification is not wired in yet, so
 * this fails closed: every write is rejected with `bad-signature` and reads still work.
 * Embedders pass their own {@link EnvelopeVerifier} to `new Relay(...)`.
 */
export function defaultVerifier(): EnvelopeVerifier {
  const refuse = (): never => {
    throw new RelayError('bad-signature', 'no envelope verifier configured on this relay')
  }
  return {
    verifyUpdate: refuse,
    verifyMembershipEntry: refuse,
    verifySnapshot: refuse,
    peekUpdate: () => refuse(),
  }
}
