import type { Schema } from 'prosemirror-model'
import * as Y from 'yjs'
import { RichTextError } from './errors.js'
import { richTextSchema } from './schema.js'

type YChild = Y.XmlElement | Y.XmlText

/** ProseMirror size of a Yjs child in y-prosemirror's layout (elements = nodes, texts = runs). */
function ySize(t: YChild, schema: Schema): number {
  if (t instanceof Y.XmlText) return t.length
  const type = schema.nodes[t.nodeName]
  if (!type) return 0
  if (type.isLeaf) return 1
  let size = 2
  for (const c of t.toArray()) size += ySize(c as YChild, schema)
  return size
}

/**
 * A `Y.RelativePosition` for a ProseMirror position in a rich text fragment. Unlike the number,
 * it stays attached to the same character through any concurrent edit. `assoc` < 0 attaches to
 * the character before the position (use it for range ends), ≥ 0 to the one after.
 *
 * @example
 * ```ts
 * const rel = richTextRelativePosition(text.fragment, 5)
 * // … edits from anyone …
 * richTextAbsolutePosition(text.fragment, rel) // where that spot is now, or null
 * ```
 */
export function richTextRelativePosition(
  fragment: Y.XmlFragment,
  pos: number,
  assoc = 0,
  schema: Schema = richTextSchema,
): Y.RelativePosition {
  if (!Number.isInteger(pos) || pos < 0) {
    throw new RichTextError('bad-position', `position ${pos} is not a non-negative integer`)
  }
  let type: Y.XmlFragment = fragment
  let rest = pos
  for (;;) {
    const children = type.toArray() as YChild[]
    let inner: Y.XmlElement | null = null
    for (let i = 0; i < children.length && inner === null; i++) {
      const c = children[i] as YChild
      if (c instanceof Y.XmlText) {
        if (rest <= c.length) return Y.createRelativePositionFromTypeIndex(c, rest, assoc)
        rest -= c.length
        continue
      }
      if (rest === 0) return Y.createRelativePositionFromTypeIndex(type, i, assoc)
      const size = ySize(c, schema)
      if (rest < size) {
        inner = c
        rest -= 1
      } else rest -= size
    }
    if (inner) {
      type = inner
      continue
    }
    if (rest === 0) return Y.createRelativePositionFromTypeIndex(type, children.length, assoc)
    throw new RichTextError('bad-position', `position ${pos} is outside the document`)
  }
}

/**
 * The current ProseMirror position of a relative position made by
 * {@link richTextRelativePosition}, or `null` when the node holding it was deleted or it belongs
 * to another fragment.
 */
export function richTextAbsolutePosition(
  fragment: Y.XmlFragment,
  rel: Y.RelativePosition,
  schema: Schema = richTextSchema,
): number | null {
  const doc = fragment.doc
  if (!doc) throw new RichTextError('no-document', 'the fragment is not part of a Y.Doc')
  const abs = Y.createAbsolutePositionFromRelativePosition(rel, doc)
  if (!abs) return null
  // biome-ignore lint/suspicious/noExplicitAny: Yjs types are invariant in their event type
  let t = abs.type as Y.AbstractType<any>
  let pos = 0
  if (t instanceof Y.XmlText) pos = abs.index
  else if (t instanceof Y.XmlFragment) {
    const children = t.toArray() as YChild[]
    for (let i = 0; i < abs.index; i++) pos += ySize(children[i] as YChild, schema)
  } else return null
  while (t !== fragment) {
    const item = t._item
    if (!item || item.deleted) return null
    const parent = item.parent
    if (!(parent instanceof Y.XmlFragment)) return null
    for (const c of parent.toArray() as YChild[]) {
      if (c === t) break
      pos += ySize(c, schema)
    }
    if (t instanceof Y.XmlElement) pos += 1
    t = parent
  }
  return pos
}
