/**
 * What a client caught the relay (or a peer) doing:
 * - `withheld`: a member's signed heads name an update this client never received;
 * - `replay`: the relay delivered an update whose author counter was already delivered;
 * - `rollback`: the relay served an older snapshot or a shorter log than the local checkpoint,
 *   or a shorter membership chain than the client verified;
 * - `fork`: the relay served a snapshot that does not chain to the known one, or a membership
 *   entry different from one the client verified;
 * - `invalid`: the relay delivered bytes that do not verify (forged, or from a non-writer); when
 *   `author` is set, the bytes prove that author made them (e.g. an Ed25519 signature outside
 *   the acceptance rule that only the author's key could produce), and the author is to blame;
 * - `malformed-update`: a writer signed an update that is not valid Yjs (`author` names it);
 *   it was skipped and its sequence number counted as consumed;
 * - `impersonation`: a writer's update carries insertions under a Yjs client id bound to
 *   another member (`author` names the signer, `clientId` the id); it was skipped;
 * - `forged-snapshot`: a member signed a snapshot whose content differs from the updates it
 *   covers, or confirmed such a snapshot; `author` names that member.
 */
export type MisbehaviourKind =
  | 'withheld'
  | 'replay'
  | 'rollback'
  | 'fork'
  | 'invalid'
  | 'malformed-update'
  | 'impersonation'
  | 'forged-snapshot'

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
  /** Yjs client id concerned (`impersonation`). */
  readonly clientId?: number
}

/**
 * Who is to blame for an update that did not open: its author when the bytes prove the author
 * made them (a signature only the author's key could produce, outside the acceptance rule),
 * otherwise the relay, which should have refused it.
 */
export function invalidUpdate(error: unknown, seq: number): Misbehaviour {
  const author = (error as { author?: unknown } | undefined)?.author
  if (typeof author === 'string') {
    return {
      kind: 'invalid',
      message: 'the author signed outside the acceptance rule',
      author,
      seq,
    }
  }
  return { kind: 'invalid', message: 'relay delivered an envelope that does not verify', seq }
}
