/** Stable codes of {@link DriveError}. */
export type DriveErrorCode =
  | 'not-found'
  | 'cycle'
  | 'not-a-folder'
  | 'not-a-file'
  | 'invalid-name'
  | 'bad-argument'
  | 'not-in-trash'

/**
 * Thrown by the drive model on bad input. The document is left unchanged when it is thrown.
 *
 * @example
 * ```ts
 * const folder = drive.createFolder('Minutes')
 * const child = drive.createFolder('2026', { parent: folder })
 * try {
 *   drive.move(folder, child) // a folder cannot move into itself
 * } catch (e) {
 *   if (e instanceof DriveError) console.log(e.code)
 * }
 * ```
 */
export class DriveError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: DriveErrorCode
  constructor(code: DriveErrorCode, message: string) {
    super(message)
    this.name = 'DriveError'
    this.code = code
  }
}
