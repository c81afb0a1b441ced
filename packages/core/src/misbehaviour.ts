/**
 * What a client caught the relay (or a peer) doing:
 * - `withheld`: a member's signed heads name an update this client never received;
 * - `replay`: the relay delivered an update whose author counter was already delivered;
 * - `rollback`: the relay served an older snapshot or a shorter log than the local checkpoint;
 * - `fork`: the relay served a snapshot that does not chain to the known one;
 * - `invalid`: the relay delivered bytes that do not verify (forged, or from a non-writer); when
 *   `author` is set, the bytes prove that author made them (e.g. an Ed25519 signature outside
 *   the acceptance rule that only the author's key could produce), and the author is to blame.
 */
export type MisbehaviourKind = 'withheld' | 'replay' | 'rollback' | 'fork' | 'invalid'

/** One detected misbehaviour; never contains content. */
export interface Misbehaviour {
  /** What was detected. */
  readonly kind: MisbehaviourKind
  /** Human explanation (no content, no keys). */
  readonly message: string
  /** Author concerned, when known. */
  readonly author?: string
  /** Author counter concerned, when known. */
  readonly counter?: number
  /** Relay sequence number concerned, when known. */
  readonly seq?: number
}
