import type { Mark, Node } from 'prosemirror-model'
import { Transform } from 'prosemirror-transform'
import { updateYFragment, yXmlFragmentToProseMirrorRootNode } from 'y-prosemirror'
import type * as Y from 'yjs'
import { RichTextError } from './errors.js'
import { repairNode } from './repair.js'
import { type RichTextMark, richTextSchema } from './schema.js'

/** Default name of the root `Y.XmlFragment` used by {@link RichText.fromDoc}. */
export const RICH_TEXT_FRAGMENT = 'valv.richtext'

/** Options of {@link RichText}. */
export interface RichTextOptions {
  /**
   * Transaction origin of this user's edits. Undo managers made for this text track only this
   * origin, so undo never reverts other users' edits. Defaults to the `RichText` itself.
   */
  readonly origin?: unknown
}

/** A change to a rich text document, by top-level block. */
export interface RichTextEvent {
  /** Always `changed`. */
  readonly type: 'changed'
  /** Current indices of the top-level blocks inserted or changed, ascending. */
  readonly blocks: readonly number[]
  /** Number of top-level blocks removed. */
  readonly removed: number
  /** Whether the change was made through this `RichText` (its origin). */
  readonly local: boolean
}

/** ProseMirror JSON of a node (`{ type, attrs?, content?, marks?, text? }`). */
export type RichTextJSON = Record<string, unknown>

/**
 * Headless editing of a rich text document held in a `Y.XmlFragment`, in exactly the layout
 * y-prosemirror uses, so a ProseMirror or Tiptap editor bound with `ySyncPlugin` to the same
 * fragment sees every edit (and vice versa). Positions are ProseMirror positions. Each edit reads
 * the document, applies a ProseMirror transform and writes back the minimal change with
 * y-prosemirror's own `updateYFragment`, in one transaction under this user's origin.
 *
 * @example
 * ```ts
 * const text = RichText.fromDoc(doc)
 * text.insertHeading(0, 1, 'Minutes')
 * text.insertParagraph(1, 'Present: all')
 * text.format(1, 8, 'bold') // "Minutes" in bold
 * text.toPlainText() // 'Minutes\nPresent: all'
 * ```
 */
export class RichText {
  /** Transaction origin of edits made through this object. */
  readonly origin: unknown

  /**
   * @param fragment - The fragment holding the document (must belong to a `Y.Doc` to edit).
   * @param options - See {@link RichTextOptions}.
   */
  constructor(
    readonly fragment: Y.XmlFragment,
    options: RichTextOptions = {},
  ) {
    this.origin = options.origin ?? this
  }

  /** The rich text stored in root fragment `name` of `doc`. */
  static fromDoc(doc: Y.Doc, name = RICH_TEXT_FRAGMENT, options: RichTextOptions = {}): RichText {
    return new RichText(doc.getXmlFragment(name), options)
  }

  private get ydoc(): Y.Doc {
    const doc = this.fragment.doc
    if (!doc) throw new RichTextError('no-document', 'the fragment is not part of a Y.Doc')
    return doc
  }

  /** The document as a ProseMirror node, valid for {@link richTextSchema} (see `repairNode`). */
  toNode(): Node {
    const node = yXmlFragmentToProseMirrorRootNode(this.fragment, richTextSchema)
    return repairNode(node)
  }

  /** The document as ProseMirror JSON. */
  toJSON(): RichTextJSON {
    return this.toNode().toJSON() as RichTextJSON
  }

  /** Size of the document content (the largest valid position). */
  get size(): number {
    return this.toNode().content.size
  }

  /** Number of top-level blocks. */
  get blockCount(): number {
    return this.toNode().childCount
  }

  /** Text content: blocks separated by `\n`, hard breaks as `\n`, images omitted. */
  toPlainText(): string {
    const doc = this.toNode()
    return doc.textBetween(0, doc.content.size, '\n')
  }

  /** Replace the whole document with `node` (a `doc` node of {@link richTextSchema}). */
  setNode(node: Node): void {
    if (node.type !== richTextSchema.topNodeType) {
      throw new RichTextError('bad-content', `expected a doc node, got ${node.type.name}`)
    }
    try {
      node.check()
    } catch (e) {
      throw new RichTextError('bad-content', (e as Error).message)
    }
    this.write(node)
  }

  /** Replace the whole document with ProseMirror JSON (validated first). */
  setJSON(json: RichTextJSON): void {
    let node: Node
    try {
      node = richTextSchema.nodeFromJSON(json)
    } catch (e) {
      throw new RichTextError('bad-content', (e as Error).message)
    }
    this.setNode(node)
  }

  /** Run several edits as one transaction (one update, one undo step). */
  transact(fn: () => void): void {
    this.ydoc.transact(fn, this.origin)
  }

  /** Insert a block node (or its JSON) before top-level block `index` (`blockCount` appends). */
  insertBlock(index: number, block: Node | RichTextJSON): void {
    let node: Node
    try {
      node =
        'type' in block && typeof block.type === 'string'
          ? richTextSchema.nodeFromJSON(block)
          : (block as Node)
      node.check()
    } catch (e) {
      throw new RichTextError('bad-content', (e as Error).message)
    }
    if (!node.isBlock) throw new RichTextError('bad-content', `${node.type.name} is not a block`)
    this.edit((tr) => tr.insert(this.blockPos(tr.doc, index), node))
  }

  /** Insert a paragraph with plain `text` before top-level block `index`. */
  insertParagraph(index: number, text = ''): void {
    this.insertBlock(index, richTextSchema.node('paragraph', null, textNodes(text)))
  }

  /** Insert a heading of `level` 1–6 before top-level block `index`. */
  insertHeading(index: number, level: number, text = ''): void {
    if (!Number.isInteger(level) || level < 1 || level > 6) {
      throw new RichTextError('bad-argument', `heading level ${level} is not 1–6`)
    }
    this.insertBlock(index, richTextSchema.node('heading', { level }, textNodes(text)))
  }

  /** Insert a bullet or ordered list with one item per string. */
  insertList(index: number, kind: 'bullet' | 'ordered', items: readonly string[]): void {
    if (items.length === 0) throw new RichTextError('bad-argument', 'a list needs an item')
    const s = richTextSchema
    const lis = items.map((t) =>
      s.node('listItem', null, [s.node('paragraph', null, textNodes(t))]),
    )
    this.insertBlock(index, s.node(kind === 'bullet' ? 'bulletList' : 'orderedList', null, lis))
  }

  /** Insert a table of plain-text cells; with `header`, the first row is header cells. */
  insertTable(index: number, rows: readonly (readonly string[])[], header = false): void {
    if (rows.length === 0 || rows.some((r) => r.length === 0)) {
      throw new RichTextError('bad-argument', 'a table needs at least one cell per row')
    }
    const s = richTextSchema
    const trs = rows.map((cells, r) =>
      s.node(
        'tableRow',
        null,
        cells.map((t) =>
          s.node(header && r === 0 ? 'tableHeader' : 'tableCell', null, [
            s.node('paragraph', null, textNodes(t)),
          ]),
        ),
      ),
    )
    this.insertBlock(index, s.node('table', null, trs))
  }

  /** Insert `text` at `pos` (inside a textblock), with the marks typing there would get. */
  insertText(pos: number, text: string, marks?: readonly Mark[]): void {
    if (text === '') return
    this.edit((tr) => {
      const $pos = this.resolve(tr.doc, pos)
      if (!$pos.parent.inlineContent) {
        throw new RichTextError('bad-position', `position ${pos} is not inside a textblock`)
      }
      const use = $pos.parent.type.spec.code ? [] : (marks ?? $pos.marks())
      tr.insert(pos, richTextSchema.text(text, use))
    })
  }

  /** Insert a hard line break at `pos` (inside a textblock other than a code block). */
  insertHardBreak(pos: number): void {
    this.insertInline(pos, richTextSchema.node('hardBreak'))
  }

  /** Insert an image referring to an encrypted blob by id (never a plaintext URL). */
  insertImage(pos: number, blobId: string, alt: string | null = null): void {
    if (blobId === '') throw new RichTextError('bad-argument', 'blobId is empty')
    this.insertInline(pos, richTextSchema.node('image', { blobId, alt }))
  }

  private insertInline(pos: number, node: Node): void {
    this.edit((tr) => {
      const $pos = this.resolve(tr.doc, pos)
      if (!$pos.parent.canReplaceWith($pos.index(), $pos.index(), node.type)) {
        throw new RichTextError('bad-position', `${node.type.name} is not allowed at ${pos}`)
      }
      tr.insert(pos, node)
    })
  }

  /** Delete the content between `from` and `to`, joining blocks the way an editor would. */
  deleteRange(from: number, to: number): void {
    this.edit((tr) => {
      this.range(tr.doc, from, to)
      tr.delete(from, to)
    })
  }

  /** Apply mark `mark` (with `attrs`, e.g. `{ href }` for links) to the text in a range. */
  format(from: number, to: number, mark: RichTextMark, attrs: Record<string, unknown> = {}): void {
    const type = richTextSchema.marks[mark]
    if (!type) throw new RichTextError('bad-argument', `unknown mark ${mark}`)
    let m: Mark
    try {
      m = type.create(attrs)
    } catch (e) {
      throw new RichTextError('bad-argument', (e as Error).message)
    }
    this.edit((tr) => {
      this.range(tr.doc, from, to)
      tr.addMark(from, to, m)
    })
  }

  /** Remove mark `mark` from a range. */
  unformat(from: number, to: number, mark: RichTextMark): void {
    const type = richTextSchema.marks[mark]
    if (!type) throw new RichTextError('bad-argument', `unknown mark ${mark}`)
    this.edit((tr) => {
      this.range(tr.doc, from, to)
      tr.removeMark(from, to, type)
    })
  }

  /** Subscribe to changes; returns the unsubscribe function. */
  observe(listener: (e: RichTextEvent) => void): () => void {
    const handler = (events: Y.YEvent<Y.AbstractType<unknown>>[], tr: Y.Transaction) => {
      const changed = new Set<Y.AbstractType<unknown>>()
      const blocks = new Set<number>()
      let removed = 0
      for (const ev of events) {
        if (ev.target === this.fragment) {
          let index = 0
          for (const d of ev.changes.delta) {
            if (d.retain !== undefined) index += d.retain
            else if (d.delete !== undefined) removed += d.delete
            else if (Array.isArray(d.insert)) {
              for (let i = 0; i < d.insert.length; i++) blocks.add(index++)
            }
          }
          continue
        }
        let t: Y.AbstractType<unknown> = ev.target
        while (t._item && t._item.parent !== this.fragment) {
          t = t._item.parent as Y.AbstractType<unknown>
        }
        changed.add(t)
      }
      if (changed.size > 0) {
        this.fragment.toArray().forEach((child, i) => {
          if (changed.has(child as Y.AbstractType<unknown>)) blocks.add(i)
        })
      }
      listener({
        type: 'changed',
        blocks: [...blocks].sort((a, b) => a - b),
        removed,
        local: tr.origin === this.origin,
      })
    }
    this.fragment.observeDeep(handler)
    return () => this.fragment.unobserveDeep(handler)
  }

  private blockPos(doc: Node, index: number): number {
    if (!Number.isInteger(index) || index < 0 || index > doc.childCount) {
      throw new RichTextError(
        'bad-position',
        `block index ${index} is outside 0..${doc.childCount}`,
      )
    }
    let pos = 0
    for (let i = 0; i < index; i++) pos += doc.child(i).nodeSize
    return pos
  }

  private resolve(doc: Node, pos: number) {
    if (!Number.isInteger(pos) || pos < 0 || pos > doc.content.size) {
      throw new RichTextError('bad-position', `position ${pos} is outside 0..${doc.content.size}`)
    }
    return doc.resolve(pos)
  }

  private range(doc: Node, from: number, to: number): void {
    this.resolve(doc, from)
    this.resolve(doc, to)
    if (from > to) throw new RichTextError('bad-range', `range ${from}..${to} is reversed`)
  }

  private edit(fn: (tr: Transform) => void): void {
    // An empty fragment reads as one placeholder paragraph (as in an editor); a block inserted
    // into it replaces the placeholder instead of landing next to it.
    if (this.fragment.length === 0) {
      const tr = new Transform(richTextSchema.topNodeType.create())
      try {
        fn(tr)
        tr.doc.check()
        this.write(tr.doc)
        return
      } catch {
        // Not a block insertion: apply it to the placeholder paragraph below.
      }
    }
    const tr = new Transform(this.toNode())
    try {
      fn(tr)
    } catch (e) {
      if (e instanceof RichTextError) throw e
      throw new RichTextError('bad-position', (e as Error).message)
    }
    if (!tr.docChanged) return
    try {
      tr.doc.check()
    } catch (e) {
      throw new RichTextError('bad-content', (e as Error).message)
    }
    this.write(tr.doc)
  }

  private write(node: Node): void {
    const ydoc = this.ydoc
    ydoc.transact(() => {
      updateYFragment(ydoc, this.fragment, node, { mapping: new Map(), isOMark: new Map() })
    }, this.origin)
  }
}

function textNodes(text: string): Node[] {
  return text === '' ? [] : [richTextSchema.text(text)]
}
