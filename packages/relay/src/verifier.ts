/**
 * The one seam between the relay and envelope cryptography. The relay never decrypts; it asks
 * a verifier whether bytes are correctly signed by a member whose role allows the write. The
 * production verifier wraps `@valv/protocol`'s public verification; tests may plug in others.
 * Verifiers reject by throwing {@link RelayError} (`bad-signature`, `forbidden`, `malformed`,
 * `membership-invalid`, `snapshot-invalid`).
 */
export interface VerifyContext {
  /** The document the bytes were sent for. */
  readonly docId: string
  /** The document's stored membership chain, oldest first (index 0 = genesis). */
  readonly membership: readonly Uint8Array[]
}

/** What the relay learns from a verified update: who wrote it and their monotonic counter. */
export interface VerifiedUpdate {
  /** Stable author identifier (e.g. hex of the signing public key). */
  readonly author: string
  /** The author's per-document counter; must grow strictly per author. */
  readonly counter: number
}

/** What the relay learns from a verified snapshot: its author and signed position. */
export interface VerifiedSnapshot {
  /** Stable author identifier, as {@link VerifiedUpdate.author}. */
  readonly author: string
  /** Last sequence number it covers (signed). */
  readonly upToSeq: number
  /** `upToSeq` of the snapshot it replaces, 0 = none (signed). */
  readonly prevSeq: number
  /** Id of the snapshot it replaces, 32 zero bytes = none (signed). */
  readonly prev: Uint8Array
  /** Whether no other member may write: then nobody could confirm it, and it needs no one. */
  readonly soleWriter: boolean
}

/** The signer of a verified presence payload. */
export interface VerifiedAuthor {
  /** Stable author identifier (e.g. hex of the signing public key). */
  readonly author: string
}

/** What a blob grant must be bound to (see {@link EnvelopeVerifier.verifyBlobGrant}). */
export interface BlobGrantRequest {
  /** The operation asked for. */
  readonly op: 'upload' | 'download' | 'delete'
  /** The blob's id. */
  readonly blobId: string
  /** Declared ciphertext size (0 = not stated). */
  readonly size: number
  /** The relay session the grant must be bound to. */
  readonly sessionId: string
}

/** Public verification used by the relay. All methods may be sync or async. */
export interface EnvelopeVerifier {
  /** Check signature, role and size-independent structure of an update envelope. */
  verifyUpdate(ctx: VerifyContext, envelope: Uint8Array): VerifiedUpdate | Promise<VerifiedUpdate>
  /** Check that `entry` is a valid successor of `ctx.membership` (signature, signer's role). */
  verifyMembershipEntry(ctx: VerifyContext, entry: Uint8Array): void | Promise<void>
  /**
   * Check that a presence payload is signed by a current member of the document (any role);
   * presence that does not verify is not forwarded. Returns the signing author.
   */
  verifyPresence(ctx: VerifyContext, payload: Uint8Array): VerifiedAuthor | Promise<VerifiedAuthor>
  /** Check a snapshot's signature and that its author may write; return its signed header. */
  verifySnapshot(
    ctx: VerifyContext,
    snapshot: Uint8Array,
  ): VerifiedSnapshot | Promise<VerifiedSnapshot>
  /**
   * Check a confirmation of snapshot `id` (`snapshotId` of `@valv/protocol`): signed by a
   * member who may write now. Returns the confirming author (as {@link VerifiedUpdate.author}).
   */
  verifyConfirmation(
    ctx: VerifyContext,
    confirmation: Uint8Array,
    id: Uint8Array,
  ): { author: string } | Promise<{ author: string }>
  /**
   * Read author and counter of an already-stored envelope without cryptography, to rebuild
   * counter state when a document is loaded from storage.
   */
  peekUpdate(envelope: Uint8Array): VerifiedUpdate
  /**
   * Check a blob grant (`verifyBlobGrant` of `@valv/protocol`): signed by a current member whose
   * role allows `fields.op` (upload and delete: writers; download: any member), bound to these
   * fields. Without this method the relay refuses every file request with `forbidden`.
   */
  verifyBlobGrant?(
    ctx: VerifyContext,
    grant: Uint8Array,
    fields: BlobGrantRequest,
  ): { author: string } | Promise<{ author: string }>
  /**
   * Check an erase request (`verifyEraseRequest` of `@valv/protocol`): signed by a current
   * admin, bound to this document, the relay session `sessionId` it arrived on and the current
   * length of `ctx.membership`. Without this method the relay refuses every `erase` frame with
   * `forbidden`.
   */
  verifyEraseRequest?(
    ctx: VerifyContext,
    request: Uint8Array,
    sessionId: string,
  ): { author: string } | Promise<{ author: string }>
  /** The relay dropped `docId` from memory: release anything cached for it. */
  forget?(docId: string): void
}
