import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { strToU8, zipSync } from 'fflate'
import type { Marking } from '../classification/marking.js'
import { ComplianceError } from '../errors.js'
import { markingLine } from './package.js'
import { esc } from './xml.js'

/** One file of an archive package: an export (`.odt`, `.ods`, `.odp`, `.pdf`, …). */
export interface ArchiveFile {
  /** File name inside the package: letters, digits, `._-` and spaces, no path. */
  readonly name: string
  /** Media type, e.g. `application/vnd.oasis.opendocument.text`. */
  readonly mimeType: string
  /** The bytes. */
  readonly bytes: Uint8Array
}

/** What an archive package holds and says about itself. */
export interface ArchivePackageInput {
  /** Package id (`OBJID`), e.g. a UUID or the agency's reference: `[A-Za-z0-9._:-]`, ≤ 100. */
  readonly id: string
  /** A label for the package (the document's title, a case reference). */
  readonly label: string
  /** The delivering agency (METS agent `ARCHIVIST`/`CREATOR`). */
  readonly agency: string
  /** The exported files (the content; at least one). */
  readonly files: readonly ArchiveFile[]
  /** The document's audit trail as a trail file (`AuditTrail.export`), kept as preservation metadata. */
  readonly auditTrail?: string
  /** The marking, written into the METS header. */
  readonly marking?: Marking
  /** Creation time (default: now). */
  readonly created?: Date
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$/
const ID = /^[A-Za-z0-9._:-]{1,100}$/

interface Entry {
  readonly path: string
  readonly mimeType: string
  readonly bytes: Uint8Array
  readonly use: 'content' | 'preservation'
}

/**
 * An archive delivery package in the structure of E-ARK CSIP, on which Riksarkivet's FGS
 * packages are based, zipped with `fflate` and written on the client:
 *
 * ```
 * <id>/METS.xml                                   every file with size, SHA-256, media type
 * <id>/representations/rep1/data/<file>          the open-format exports
 * <id>/metadata/preservation/audit-trail.valv    the signed audit trail (if given)
 * <id>/manifest-sha256.txt                        `<sha256>  <path>` per file (BagIt style)
 * ```
 *
 * It packages; it does not validate against a specific FGS profile (the receiving archive's
 * profile decides which descriptive metadata it requires, which the integrator adds).
 *
 * @example
 * ```ts
 * const trail = await AuditTrail.open(session.docId)
 * const signer = documentAuditSigner(session)
 * const odt = richTextToOdt(text, { title: 'Beslut' })
 * const zip = archivePackage({
 *   id: 'dnr-2026-77',
 *   label: 'Beslut om åtgärd',
 *   agency: 'Socialnämnden',
 *   files: [{ name: 'beslut.odt', mimeType: 'application/vnd.oasis.opendocument.text', bytes: odt }],
 *   auditTrail: await trail.export(signer),
 * })
 * ```
 */
export function archivePackage(input: ArchivePackageInput): Uint8Array {
  if (!ID.test(input.id)) throw new ComplianceError('invalid-argument', 'bad package id')
  if (input.files.length === 0) throw new ComplianceError('invalid-argument', 'no files')
  const names = new Set<string>()
  for (const f of input.files) {
    if (!NAME.test(f.name) || names.has(f.name)) {
      throw new ComplianceError('invalid-argument', 'bad or repeated file name')
    }
    names.add(f.name)
  }
  const entries: Entry[] = input.files.map((f) => ({
    path: `representations/rep1/data/${f.name}`,
    mimeType: f.mimeType,
    bytes: f.bytes,
    use: 'content',
  }))
  if (input.auditTrail !== undefined) {
    entries.push({
      path: 'metadata/preservation/audit-trail.valv',
      mimeType: 'text/plain',
      bytes: strToU8(input.auditTrail),
      use: 'preservation',
    })
  }
  const created = (input.created ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z')
  const sums = entries.map((e) => bytesToHex(sha256(e.bytes)))
  const file = (e: Entry, i: number) =>
    `<mets:file ID="FILE-${i + 1}" MIMETYPE="${esc(e.mimeType)}" SIZE="${e.bytes.length}" CREATED="${created}" CHECKSUM="${sums[i]}" CHECKSUMTYPE="SHA-256"><mets:FLocat LOCTYPE="URL" xlink:type="simple" xlink:href="${esc(e.path)}"/></mets:file>`
  const group = (use: Entry['use'], id: string, label: string) => {
    const files = entries.map((e, i) => (e.use === use ? file(e, i) : '')).join('\n')
    return files === '' ? '' : `<mets:fileGrp ID="${id}" USE="${label}">\n${files}\n</mets:fileGrp>`
  }
  const pointers = (use: Entry['use']) =>
    entries.map((e, i) => (e.use === use ? `<mets:fptr FILEID="FILE-${i + 1}"/>` : '')).join('')
  const marking =
    input.marking === undefined
      ? ''
      : `<mets:altRecordID TYPE="MARKING">${esc(markingLine(input.marking))}</mets:altRecordID>`
  const mets = `<?xml version="1.0" encoding="UTF-8"?>
<mets:mets xmlns:mets="http://www.loc.gov/METS/" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:csip="https://DILCIS.eu/XML/METS/CSIPExtensionMETS" OBJID="${esc(input.id)}" LABEL="${esc(input.label)}" TYPE="Other" csip:OTHERTYPE="Valv document" PROFILE="https://earkcsip.dilcis.eu/profile/E-ARK-CSIP.xml">
<mets:metsHdr CREATEDATE="${created}" RECORDSTATUS="NEW" csip:OAISPACKAGETYPE="SIP">
<mets:agent ROLE="CREATOR" TYPE="ORGANIZATION"><mets:name>${esc(input.agency)}</mets:name></mets:agent>
<mets:agent ROLE="CREATOR" TYPE="OTHER" OTHERTYPE="SOFTWARE"><mets:name>Valv (@valv/compliance)</mets:name></mets:agent>
${marking}
</mets:metsHdr>
<mets:fileSec ID="FILESEC">
${group('content', 'GRP-CONTENT', 'Representations/rep1/Data')}
${group('preservation', 'GRP-PRESERVATION', 'Preservation')}
</mets:fileSec>
<mets:structMap ID="STRUCT" TYPE="PHYSICAL" LABEL="CSIP"><mets:div LABEL="${esc(input.id)}">
<mets:div LABEL="Representations/rep1">${pointers('content')}</mets:div>
${input.auditTrail === undefined ? '' : `<mets:div LABEL="Metadata/Preservation">${pointers('preservation')}</mets:div>`}
</mets:div></mets:structMap>
</mets:mets>
`
  const root = input.id
  const metsBytes = strToU8(mets)
  const manifest = [
    `${bytesToHex(sha256(metsBytes))}  METS.xml`,
    ...entries.map((e, i) => `${sums[i]}  ${e.path}`),
  ].join('\n')
  const zip: Record<string, Uint8Array> = { [`${root}/METS.xml`]: metsBytes }
  for (const e of entries) zip[`${root}/${e.path}`] = e.bytes
  zip[`${root}/manifest-sha256.txt`] = strToU8(`${manifest}\n`)
  return zipSync(zip, { level: 6, mtime: input.created ?? new Date() })
}
