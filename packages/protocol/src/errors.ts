/** Stable machine-readable codes of {@link CryptoError}. */
export type CryptoErrorCode =
  /** Bytes do not decode as the structure they claim to be (truncated, trailing bytes, bad field). */
  | 'malformed'
  /** A format version this implementation does not know. */
  | 'unsupported-version'
  /** A cipher suite this implementation does not know or has retired. */
  | 'unsupported-suite'
  /** A signature does not verify. */
  | 'bad-signature'
  /** Authenticated decryption failed: wrong key, or the ciphertext or its header was changed. */
  | 'decrypt-failed'
  /** The signer's role does not allow this message kind (viewer writing, removed member, …). */
  | 'not-authorised'
  /** A counter that is not greater than the last one seen from the same author. */
  | 'replay'
  /** The message names a key epoch the reader does not hold. */
  | 'unknown-epoch'
  /** Two different entries claim the same place in a hash chain. */
  | 'fork-detected'
  /**
   * A relay served an older membership chain than this client already verified (a storage
   * restore, or a relay hiding entries): the client keeps its own and changes nothing.
   */
  | 'rollback-detected'
  /** A key does not match the commitment recorded for it. */
  | 'key-mismatch'
  /** The message or value is larger than allowed. */
  | 'too-large'
  /** An encrypted stream ended early or its chunks were reordered. */
  | 'truncated'
  /** The passphrase does not open the exported key. */
  | 'bad-passphrase'
  /** A passphrase too short to protect anything (empty, or under 8 characters). */
  | 'weak-passphrase'
  /** An invite or certificate is past its expiry, or was revoked or already used. */
  | 'expired'
  /** A key has the wrong length or form. */
  | 'invalid-key'
  /** The operation needs state the caller does not have (not a member, not an admin, …). */
  | 'invalid-state'

/**
 * The one error type of `@valv/protocol` and `@valv/crypto`. `code` is stable; a call that throws
 * changed no state. Messages never contain key bytes or plaintext.
 *
 * @example
 * ```ts
 * try {
 *   await session.open('update', bytes)
 * } catch (err) {
 *   if (!(err instanceof CryptoError && err.code === 'not-authorised')) throw err
 *   // from someone who may not write: drop it
 * }
 * ```
 */
export class CryptoError extends Error {
  /** Stable machine-readable reason. */
  readonly code: CryptoErrorCode

  /**
   * Hex of the per-document key of the member whom the bytes themselves prove responsible (a
   * signature only its key could make, yet outside the acceptance rule), when that is so. Absent
   * when the bytes could be anyone's forgery.
   */
  readonly author?: string

  /** Create an error; `cause` keeps a lower-level error for debugging (never key material). */
  constructor(
    code: CryptoErrorCode,
    message: string,
    options?: { cause?: unknown; author?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'CryptoError'
    this.code = code
    if (options?.author !== undefined) this.author = options.author
  }
}
