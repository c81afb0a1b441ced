/**
 * What a sealed message is for. The kind is bound into the signature by the implementation
 * (domain separation), so an update can never be replayed as a snapshot or a presence message.
 *
 * - `update`: a batch of Yjs updates sent to the relay; only writers may seal one.
 * - `snapshot`: a full document state for compaction; only writers.
 * - `state`: a state diff exchanged between tabs (BroadcastChannel), never stored by a relay.
 * - `presence`: awareness and signed heads; any member.
 * - `checkpoint`: the local member's own signed checkpoint in local storage.
 */
export type SealKind = 'update' | 'snapshot' | 'state' | 'presence' | 'checkpoint'

/**
 * The signed public position of a snapshot: what it covers and what it replaces (see
 * docs/protocol.md, "Snapshots").
 */
export interface SnapshotPosition {
  /** Last relay sequence number the snapshot covers. */
  readonly upToSeq: number
  /** `upToSeq` of the snapshot it replaces (0 = none). */
  readonly prevSeq: number
  /** Id of the snapshot it replaces (32 zero bytes = none). */
  readonly prev: Uint8Array
}

/** A verified and decrypted message. */
export interface Opened {
  /** Stable author id (for example hex of the signing public key). */
  readonly author: string
  /** The author's counter as signed (0 where the kind has none). */
  readonly counter: number
  /** The decrypted bytes. */
  readonly plaintext: Uint8Array
  /**
   * Whether the author's role lets it write now (checked against the membership chain when
   * opening). Signed heads in presence are believed only from writers; omitted = not a writer.
   */
  readonly writer?: boolean
  /** For a snapshot: its signed position and its id (hash of the sealed bytes). */
  readonly snapshot?: SnapshotPosition & { readonly id: Uint8Array }
}

/**
 * The seam between the Yjs binding and cryptography. `@valv/core` never touches keys; an
 * implementation (the `@valv/crypto` document handle, through an adapter) seals and opens.
 * `open` MUST verify the signature and the author's role for `kind` against the membership
 * chain before decrypting, and throw on any failure: the binding applies nothing it could not
 * open. Messages signed by the local author itself must open regardless of its current role:
 * they are the member's own local data (offline queue, state cache), read before the membership
 * chain is loaded.
 *
 * @example
 * ```ts
 * // `DocumentSession` (@valv/crypto) is one; wrapping it, for example to count seals:
 * let sealed = 0
 * const crypto: DocumentCrypto = {
 *   author: session.author,
 *   canWrite: () => session.canWrite(),
 *   seal: (kind, plaintext, counter) => (sealed++, session.seal(kind, plaintext, counter)),
 *   open: (kind, bytes) => session.open(kind, bytes),
 * }
 * ```
 */
export interface DocumentCrypto {
  /** The local author's id, as `open` reports it for the local member's own messages. */
  readonly author: string
  /** Whether the local member may currently seal `update` and `snapshot` messages. */
  canWrite(): boolean
  /**
   * Encrypt and sign `plaintext` as `kind` with the author's `counter`; a `snapshot` carries
   * its signed `position`.
   */
  seal(
    kind: SealKind,
    plaintext: Uint8Array,
    counter: number,
    position?: SnapshotPosition,
  ): Promise<Uint8Array>
  /** Verify (signature, role for `kind`) and decrypt; throws if anything does not check out. */
  open(kind: SealKind, sealed: Uint8Array): Promise<Opened>
  /**
   * Feed one membership chain entry received from the relay (index 0 = genesis). Throws if it
   * is not a valid successor. Optional: handles that learn membership elsewhere omit it.
   */
  applyMembership?(index: number, entry: Uint8Array): Promise<void>
  /**
   * {@link applyMembership} for consecutive entries `from`, `from + 1`, … that arrived together
   * (a relay's catch-up): same checks and effects, but free to verify them in parallel.
   * Optional: without it a provider feeds them one by one.
   */
  applyMembershipMany?(from: number, entries: readonly Uint8Array[]): Promise<void>
  /** Number of membership entries already known (used to subscribe from the right index). */
  membershipLength?(): number
  /**
   * Called when a relay finished catching this client up, with the number of membership entries
   * it proved it holds (the last index it sent, plus one; 0 if it sent none). A provider
   * subscribes from one before {@link membershipLength}, so an intact relay always sends one.
   * Throws (`rollback-detected`) if the relay holds fewer than this client verified before.
   */
  membershipSynced?(relayLength: number): void
  /**
   * Sign a confirmation of snapshot `id` after recomputing it from the updates it covers.
   * Optional: without it this member never confirms others' snapshots.
   */
  confirmSnapshot?(id: Uint8Array): Promise<Uint8Array>
  /**
   * Verify a confirmation of snapshot `id` (a writer's signature); resolves with the
   * confirming author id, throws otherwise. Optional: without it only snapshots of a sole
   * writer (no confirmation) are accepted as a base.
   */
  openConfirmation?(confirmation: Uint8Array, id: Uint8Array): Promise<string>
  /**
   * Register a listener called after the membership or the keys changed; returns the
   * unsubscribe function. {@link EncryptedDoc} uses it to seal edits it held back while the
   * member could not write, so no transport has to call back into it. Optional.
   */
  onChange?(listener: () => void): () => void
}
