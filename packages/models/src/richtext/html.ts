import { DOMParser, DOMSerializer, type Node } from 'prosemirror-model'
import { RichTextError } from './errors.js'
import { richTextSchema } from './schema.js'

function pickDocument(document: Document | undefined): Document {
  const doc = document ?? (globalThis as { document?: Document }).document
  if (!doc) {
    throw new RichTextError('no-document', 'no DOM Document: pass one (e.g. from happy-dom)')
  }
  return doc
}

/**
 * Serialise a document of {@link richTextSchema} as HTML. Images are written as
 * `<img src="valv-blob:<blobId>">`; the app resolves them to decrypted object URLs itself.
 *
 * @param document - DOM used to build the markup; defaults to `globalThis.document`.
 * @example
 * ```ts
 * import { Window } from 'happy-dom' // in Node; a browser passes its own `document`
 * const html = richTextToHtml(text.toNode(), new Window().document as unknown as Document)
 * ```
 */
export function richTextToHtml(doc: Node, document?: Document): string {
  const dom = pickDocument(document)
  const fragment = DOMSerializer.fromSchema(richTextSchema).serializeFragment(doc.content, {
    document: dom,
  })
  const host = dom.createElement('div')
  host.appendChild(fragment)
  return host.innerHTML
}

/**
 * Parse HTML into a document of {@link richTextSchema}; anything the schema has no place for is
 * dropped, and images that are not `valv-blob:` references are ignored. The markup is parsed
 * in an inert document (`createHTMLDocument`), so no script runs and no image is fetched.
 *
 * @param document - Any DOM `Document`; defaults to `globalThis.document`.
 */
export function htmlToRichText(html: string, document?: Document): Node {
  const inert = pickDocument(document).implementation.createHTMLDocument('')
  const host = inert.createElement('div')
  host.innerHTML = html
  const node = DOMParser.fromSchema(richTextSchema).parse(host)
  try {
    node.check()
  } catch (e) {
    throw new RichTextError('bad-content', (e as Error).message)
  }
  return node
}
