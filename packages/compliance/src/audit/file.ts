import { fromBase64Url, toBase64Url } from '@valv/protocol'
import { ComplianceError } from '../errors.js'
import { MAX_RECORD_BYTES } from './record.js'

/** First line of an exported trail file. */
export const TRAIL_FILE_MAGIC = 'valv-audit 1'

/**
 * An exported trail as text: the line {@link TRAIL_FILE_MAGIC}, then one base64url record per
 * line (entries in order, then the signed head). Text so it survives mail, archives and diff.
 */
export function formatTrailFile(records: readonly Uint8Array[]): string {
  return `${[TRAIL_FILE_MAGIC, ...records.map(toBase64Url)].join('\n')}\n`
}

/**
 * The records of a trail file (see {@link formatTrailFile}). Blank lines and a missing final
 * newline are tolerated; anything else that is not a record throws `malformed` naming the line.
 * A record that decodes as base64url but not as a record is returned as is, so the verifier
 * reports it at its position.
 */
export function parseTrailFile(text: string): Uint8Array[] {
  const lines = text.split(/\r?\n/)
  if (lines[0] !== TRAIL_FILE_MAGIC) {
    throw new ComplianceError('malformed', `not a trail file (expected "${TRAIL_FILE_MAGIC}")`)
  }
  const out: Uint8Array[] = []
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] as string).trim()
    if (line === '') continue
    const bytes = line.length > (MAX_RECORD_BYTES * 4) / 3 + 4 ? undefined : fromBase64Url(line)
    if (bytes === undefined) {
      throw new ComplianceError('malformed', `line ${i + 1} is not a base64url record`)
    }
    out.push(bytes)
  }
  return out
}
