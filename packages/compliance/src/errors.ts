/** Stable machine-readable codes of {@link ComplianceError}. */
export type ComplianceErrorCode =
  /** An argument is out of range or malformed (an event field too long, a bad date, …). */
  | 'invalid-argument'
  /** Stored or imported bytes do not decode (audit record, marking, policy, trail file). */
  | 'malformed'
  /** A loaded audit trail does not verify; `cause` carries the first break. */
  | 'broken-trail'
  /** The caller lacks the right: erasure by a non-admin, export a policy forbids, … */
  | 'not-authorised'
  /** Erasure refused: the document is under legal hold. */
  | 'legal-hold'
  /** Erasure refused: the retention period has not ended. */
  | 'retention'
  /** A classification level the configured scheme does not define. */
  | 'unknown-level'
  /** An export the format writer cannot represent (unsupported content). */
  | 'unsupported'

/**
 * The one error type of `@valv/compliance`. `code` is stable; a call that throws changed
 * nothing. Messages never contain document content or key material.
 *
 * @example
 * ```ts
 * declare const request: EraseRequest // see eraseDocument
 * try {
 *   await eraseDocument(request)
 * } catch (err) {
 *   if (!(err instanceof ComplianceError)) throw err
 *   if (err.code === 'legal-hold') element.textContent = 'Under legal hold: not erased'
 * }
 * ```
 */
export class ComplianceError extends Error {
  /** Stable machine-readable reason. */
  readonly code: ComplianceErrorCode

  /** Create an error; `cause` keeps a lower-level error for debugging. */
  constructor(code: ComplianceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ComplianceError'
    this.code = code
  }
}
