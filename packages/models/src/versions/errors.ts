/** Stable codes of {@link VersionError}. */
export type VersionErrorCode = 'gc-enabled' | 'unknown-version' | 'bad-argument'

/**
 * Thrown by {@link VersionHistory} on bad input or an unsuitable document; nothing is changed.
 *
 * @example
 * ```ts
 * try { new VersionHistory(new Y.Doc()) } catch (e) { if (e instanceof VersionError) e.code } // 'gc-enabled'
 * ```
 */
export class VersionError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: VersionErrorCode
  constructor(code: VersionErrorCode, message: string) {
    super(message)
    this.name = 'VersionError'
    this.code = code
  }
}
