import { Fragment, type Node } from 'prosemirror-model'

/**
 * Make a node tree valid for its schema. Concurrent structural edits can merge into trees no
 * single editor produced (a list item that lost its first paragraph, a document with no blocks);
 * every replica repairs the same merged tree the same way, so repaired reads still converge.
 * Missing required children are filled, stray inline content is wrapped in a paragraph, marks a
 * parent disallows are dropped, and anything else that cannot be placed is dropped.
 */
export function repairNode(node: Node): Node {
  if (node.isText || node.isLeaf) return node
  const type = node.type
  const out: Node[] = []
  let match = type.contentMatch
  node.forEach((raw) => {
    let child = raw.isText ? raw : repairNode(raw)
    const marks = child.marks.filter((m) => type.allowsMarkType(m.type))
    if (marks.length !== child.marks.length) child = child.mark(marks)
    let next = match.matchType(child.type)
    if (!next) {
      const fill = match.fillBefore(Fragment.from(child))
      const after = fill ? match.matchFragment(fill)?.matchType(child.type) : null
      if (fill && after) {
        fill.forEach((n) => {
          out.push(n)
        })
        next = after
      }
    }
    const paragraph = type.schema.nodes.paragraph
    if (!next && child.isInline && paragraph && match.matchType(paragraph)) {
      child = paragraph.create(null, child)
      next = match.matchType(paragraph)
    }
    if (next) {
      out.push(child)
      match = next
    }
  })
  const end = match.fillBefore(Fragment.empty, true)
  if (end) {
    end.forEach((n) => {
      out.push(n)
    })
  }
  return type.create(node.attrs, out, node.marks)
}
