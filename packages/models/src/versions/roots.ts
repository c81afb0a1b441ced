import * as Y from 'yjs'

// biome-ignore lint/suspicious/noExplicitAny: Yjs type constructors differ in their event types
type TypeConstructor = new () => Y.AbstractType<any>

/**
 * The concrete class of a root type. A root that arrived by sync but was never opened locally is
 * a bare `AbstractType`, which emits no events (so an `UndoManager` cannot track it); its class
 * is read off its content: map entries → `Y.Map`, XML children → `Y.XmlFragment`, text runs →
 * `Y.Text`, anything else → `Y.Array`. Deleted items count too (the doc keeps them, gc is off).
 */
// biome-ignore lint/suspicious/noExplicitAny: see above
export function rootConstructor(type: Y.AbstractType<any>): TypeConstructor {
  if (type.constructor !== Y.AbstractType) return type.constructor as TypeConstructor
  if (type._map.size > 0) return Y.Map
  for (let n = type._start; n !== null; n = n.right) {
    const c = n.content
    if (c instanceof Y.ContentType) {
      if (c.type instanceof Y.XmlElement || c.type instanceof Y.XmlText) return Y.XmlFragment
      if (c.type instanceof Y.XmlHook) return Y.XmlFragment
    }
    if (c instanceof Y.ContentString || c instanceof Y.ContentFormat) return Y.Text
    if (c instanceof Y.ContentEmbed) return Y.Text
  }
  return Y.Array
}
