import { strToU8, zipSync } from 'fflate'
import type { Marking } from '../classification/marking.js'
import { esc } from './xml.js'

/** The namespaces every part declares (ODF 1.3). */
export const NS = [
  'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"',
  'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"',
  'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"',
  'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"',
  'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"',
  'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"',
  'xmlns:xlink="http://www.w3.org/1999/xlink"',
  'xmlns:dc="http://purl.org/dc/elements/1.1/"',
  'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"',
  'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0"',
  'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2"',
].join(' ')

const HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'

/** Options every OpenDocument export takes. */
export interface OdfExportOptions {
  /** Document title (`dc:title`). */
  readonly title?: string
  /**
   * The document's marking: written to the metadata (`meta:user-defined` Klassificering,
   * Sekretess, Sekretessdatum, Myndighet, Sekretess upphör) and, for text documents, to the
   * page header so it shows on every printed page.
   */
  readonly marking?: Marking
  /** Creation date written to the metadata (default: now). */
  readonly created?: Date
}

/** The one-line marking shown in headers: `K2 · Sekretess enligt OSL 21 kap. 7 §`. */
export function markingLine(marking: Marking): string {
  const secrecy = marking.secrecy
  return secrecy === undefined
    ? `Klassificering ${marking.level}`
    : `Klassificering ${marking.level} · Sekretess enligt ${secrecy.provision} (${secrecy.authority}, ${secrecy.date})`
}

function metaXml(options: OdfExportOptions): string {
  const fields: Array<[string, string | undefined]> = [
    ['Klassificering', options.marking?.level],
    ['Sekretess', options.marking?.secrecy?.provision],
    ['Sekretessdatum', options.marking?.secrecy?.date],
    ['Myndighet', options.marking?.secrecy?.authority],
    ['Sekretess upphör', options.marking?.secrecy?.until],
  ]
  const created = (options.created ?? new Date()).toISOString().replace(/\.\d{3}Z$/, '')
  return `${HEAD}<office:document-meta ${NS} office:version="1.3"><office:meta>
<meta:generator>Valv/0.1 (@valv/compliance)</meta:generator>
${options.title === undefined ? '' : `<dc:title>${esc(options.title)}</dc:title>\n`}<meta:creation-date>${created}</meta:creation-date>
${fields
  .filter((f): f is [string, string] => f[1] !== undefined)
  .map(([k, v]) => `<meta:user-defined meta:name="${esc(k)}">${esc(v)}</meta:user-defined>`)
  .join('\n')}
</office:meta></office:document-meta>
`
}

/** The parts of one OpenDocument package. */
export interface OdfParts {
  /** `application/vnd.oasis.opendocument.text`, `…spreadsheet`. */
  readonly mediaType: string
  /** The `content.xml` text. */
  readonly content: string
  /** The `styles.xml` text. */
  readonly styles: string
}

/**
 * Zip the parts as an OpenDocument package: `mimetype` first and stored uncompressed (so
 * `file(1)` and archive validators identify it), then the manifest, content, styles and meta.
 */
export function odfPackage(parts: OdfParts, options: OdfExportOptions): Uint8Array {
  const manifest = `${HEAD}<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
<manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type="${parts.mediaType}"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>
<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
`
  return zipSync(
    {
      mimetype: [strToU8(parts.mediaType), { level: 0 }],
      'META-INF/manifest.xml': strToU8(manifest),
      'content.xml': strToU8(`${HEAD}${parts.content}`),
      'styles.xml': strToU8(`${HEAD}${parts.styles}`),
      'meta.xml': strToU8(metaXml(options)),
    },
    { level: 6, mtime: options.created ?? new Date() },
  )
}
