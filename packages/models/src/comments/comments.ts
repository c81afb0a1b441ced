import type { Node } from 'prosemirror-model'
import * as Y from 'yjs'
import { RichTextError } from '../richtext/errors.js'
import { richTextAbsolutePosition, richTextRelativePosition } from '../richtext/positions.js'
import { RichText } from '../richtext/richtext.js'
import { newSheetId } from '../sheet/ids.js'
import type { Sheet } from '../sheet/sheet.js'
import { CommentError } from './errors.js'
import type {
  CellAnchorPosition,
  CommentAnchor,
  CommentEvent,
  CommentThread,
  TextAnchorPosition,
  ThreadComment,
} from './types.js'

/** Default name of the root `Y.Map` holding threads. */
export const COMMENTS_ROOT = 'valv.comments.threads'

/** Options of {@link Comments}. */
export interface CommentsOptions {
  /** This user's id, recorded as author; only the author may edit or delete a comment. */
  readonly author: string
  /** Transaction origin of this user's edits (for undo scoping). Defaults to the object. */
  readonly origin?: unknown
  /** Clock, ms since the epoch (injectable for tests). */
  readonly now?: () => number
  /** Root map name in the comments document. */
  readonly root?: string
}

type ThreadMap = Y.Map<unknown>

/**
 * Comment threads anchored to rich text ranges (by `Y.RelativePosition`) or spreadsheet cells
 * (by stable row/column ids), with replies, edits, deletes and resolve/reopen. The threads live
 * in their own `Y.Doc`, separate from the content, so a commenter can be given write access to
 * the comments document only: anchors point into the content without writing to it.
 *
 * The author check is advisory (any client holding the comments key can write anything); apps
 * that need enforcement must sign or relay-check updates.
 *
 * @example
 * ```ts
 * const content = RichText.fromDoc(contentDoc)
 * const comments = new Comments(new Y.Doc(), { author: 'ann' }) // its own document
 * const id = comments.addTextThread(content.fragment, 1, 8, 'Is this the final title?')
 * comments.reply(id, 'Yes')
 * comments.resolveText(id, content.fragment) // { status: 'anchored', from, to, text }
 * comments.resolve(id)
 * ```
 */
export class Comments {
  /** This user's id. */
  readonly author: string
  /** Transaction origin of edits made through this object. */
  readonly origin: unknown
  /** Name of the root map holding the threads. */
  readonly root: string
  private readonly threadsMap: Y.Map<ThreadMap>
  private readonly now: () => number

  /**
   * @param doc - The comments document (may be, but need not be, the content document).
   * @param options - See {@link CommentsOptions}.
   */
  constructor(
    readonly doc: Y.Doc,
    options: CommentsOptions,
  ) {
    if (options.author === '') throw new CommentError('bad-argument', 'author is empty')
    this.author = options.author
    this.origin = options.origin ?? this
    this.now = options.now ?? Date.now
    this.root = options.root ?? COMMENTS_ROOT
    this.threadsMap = doc.getMap(this.root)
  }

  /**
   * Open a thread on the text between ProseMirror positions `from` and `to` of a rich text
   * fragment (which may live in another document). Returns the thread id.
   */
  addTextThread(content: Y.XmlFragment, from: number, to: number, body: string): string {
    if (!(from < to)) throw new CommentError('bad-anchor', `empty or reversed range ${from}..${to}`)
    let start: Y.RelativePosition
    let end: Y.RelativePosition
    try {
      start = richTextRelativePosition(content, from, 0)
      end = richTextRelativePosition(content, to, -1)
    } catch (e) {
      if (e instanceof RichTextError) throw new CommentError('bad-anchor', e.message)
      throw e
    }
    const anchor: CommentAnchor = {
      kind: 'text',
      start: Y.encodeRelativePosition(start),
      end: Y.encodeRelativePosition(end),
    }
    return this.addThread(anchor, body)
  }

  /** Open a thread on cell `a1` of `sheet`; it follows the cell through row/column moves. */
  addCellThread(sheet: Sheet, a1: string, body: string): string {
    let rowId: string
    let colId: string
    try {
      ;({ rowId, colId } = sheet.getCell(a1))
    } catch (e) {
      throw new CommentError('bad-anchor', (e as Error).message)
    }
    return this.addThread({ kind: 'cell', sheetId: sheet.id, rowId, colId }, body)
  }

  private addThread(anchor: CommentAnchor, body: string): string {
    checkBody(body)
    const id = newSheetId()
    this.tx(() => {
      const t = new Y.Map<unknown>()
      t.set('anchor', anchor)
      t.set('resolved', false)
      t.set('resolvedBy', null)
      const list = new Y.Array<Y.Map<unknown>>()
      list.push([this.newComment(body)])
      t.set('comments', list)
      this.threadsMap.set(id, t)
    })
    return id
  }

  private newComment(body: string): Y.Map<unknown> {
    const c = new Y.Map<unknown>()
    c.set('id', newSheetId())
    c.set('author', this.author)
    c.set('body', body)
    c.set('createdAt', this.now())
    c.set('editedAt', null)
    c.set('deleted', false)
    return c
  }

  /** Append a reply; returns its id. */
  reply(threadId: string, body: string): string {
    checkBody(body)
    const list = this.list(threadId)
    const c = this.newComment(body)
    this.tx(() => list.push([c]))
    return c.get('id') as string
  }

  /** Replace the body of one of this user's comments. */
  edit(threadId: string, commentId: string, body: string): void {
    checkBody(body)
    const c = this.own(threadId, commentId)
    if (c.get('deleted')) throw new CommentError('unknown-comment', 'the comment was deleted')
    this.tx(() => {
      c.set('body', body)
      c.set('editedAt', this.now())
    })
  }

  /** Delete one of this user's comments: its body is erased, its place in the thread kept. */
  delete(threadId: string, commentId: string): void {
    const c = this.own(threadId, commentId)
    this.tx(() => {
      c.set('body', '')
      c.set('deleted', true)
    })
  }

  /** Remove a whole thread. */
  deleteThread(threadId: string): void {
    this.thread(threadId)
    this.tx(() => this.threadsMap.delete(threadId))
  }

  /** Mark a thread resolved. */
  resolve(threadId: string): void {
    const t = this.map(threadId)
    this.tx(() => {
      t.set('resolved', true)
      t.set('resolvedBy', this.author)
    })
  }

  /** Reopen a resolved thread. */
  reopen(threadId: string): void {
    const t = this.map(threadId)
    this.tx(() => {
      t.set('resolved', false)
      t.set('resolvedBy', null)
    })
  }

  /** All threads, oldest first (by first comment time, then id). */
  threads(): CommentThread[] {
    return [...this.threadsMap.keys()]
      .map((id) => this.thread(id))
      .sort((a, b) => {
        const ta = a.comments[0]?.createdAt ?? 0
        const tb = b.comments[0]?.createdAt ?? 0
        return ta - tb || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
      })
  }

  /** One thread. */
  thread(threadId: string): CommentThread {
    const t = this.map(threadId)
    const list = t.get('comments') as Y.Array<Y.Map<unknown>>
    return {
      id: threadId,
      anchor: t.get('anchor') as CommentAnchor,
      resolved: t.get('resolved') === true,
      resolvedBy: (t.get('resolvedBy') as string | null) ?? null,
      comments: list.toArray().map(readComment),
    }
  }

  /** Where a text thread's range is now in `content`, or `orphaned` if its text is gone. */
  resolveText(threadId: string, content: Y.XmlFragment): TextAnchorPosition {
    const anchor = this.thread(threadId).anchor
    if (anchor.kind !== 'text') throw new CommentError('wrong-anchor-kind', 'not a text thread')
    const from = richTextAbsolutePosition(content, Y.decodeRelativePosition(anchor.start))
    const to = richTextAbsolutePosition(content, Y.decodeRelativePosition(anchor.end))
    if (from === null || to === null || to <= from) return { status: 'orphaned' }
    const doc: Node = new RichText(content).toNode()
    if (to > doc.content.size) return { status: 'orphaned' }
    const text = doc.textBetween(from, to, '\n')
    return text === '' ? { status: 'orphaned' } : { status: 'anchored', from, to, text }
  }

  /** The current address of a cell thread's cell in `sheet`, or `orphaned` if it is gone. */
  resolveCell(threadId: string, sheet: Sheet): CellAnchorPosition {
    const anchor = this.thread(threadId).anchor
    if (anchor.kind !== 'cell') throw new CommentError('wrong-anchor-kind', 'not a cell thread')
    if (anchor.sheetId !== sheet.id) return { status: 'orphaned' }
    const row = sheet.rowIds().indexOf(anchor.rowId)
    const col = sheet.columnIds().indexOf(anchor.colId)
    if (row < 0 || col < 0) return { status: 'orphaned' }
    return { status: 'anchored', address: sheet.address(row, col) }
  }

  /** Subscribe to thread changes; returns the unsubscribe function. */
  observe(listener: (e: CommentEvent) => void): () => void {
    const handler = (events: Y.YEvent<Y.AbstractType<unknown>>[], tr: Y.Transaction) => {
      const local = tr.origin === this.origin
      const seen = new Set<string>()
      for (const ev of events) {
        if (ev.target === this.threadsMap) {
          for (const [id, change] of ev.changes.keys) {
            seen.add(id)
            if (change.action === 'add') listener({ type: 'thread-added', threadId: id, local })
            else if (change.action === 'delete') {
              listener({ type: 'thread-removed', threadId: id, local })
            } else listener({ type: 'thread-changed', threadId: id, local })
          }
          continue
        }
        const id = ev.path[0]
        if (typeof id === 'string' && !seen.has(id)) {
          seen.add(id)
          listener({ type: 'thread-changed', threadId: id, local })
        }
      }
    }
    this.threadsMap.observeDeep(handler)
    return () => this.threadsMap.unobserveDeep(handler)
  }

  private tx(fn: () => void): void {
    this.doc.transact(fn, this.origin)
  }

  private map(threadId: string): ThreadMap {
    const t = this.threadsMap.get(threadId)
    if (!t) throw new CommentError('unknown-thread', `no thread ${threadId}`)
    return t
  }

  private list(threadId: string): Y.Array<Y.Map<unknown>> {
    return this.map(threadId).get('comments') as Y.Array<Y.Map<unknown>>
  }

  private own(threadId: string, commentId: string): Y.Map<unknown> {
    const c = this.list(threadId)
      .toArray()
      .find((m) => m.get('id') === commentId)
    if (!c) throw new CommentError('unknown-comment', `no comment ${commentId}`)
    if (c.get('author') !== this.author) {
      throw new CommentError('not-author', 'only the author may change a comment')
    }
    return c
  }
}

function checkBody(body: string): void {
  if (body.trim() === '') throw new CommentError('bad-argument', 'comment body is empty')
}

function readComment(m: Y.Map<unknown>): ThreadComment {
  return {
    id: m.get('id') as string,
    author: m.get('author') as string,
    body: m.get('body') as string,
    createdAt: m.get('createdAt') as number,
    editedAt: (m.get('editedAt') as number | null) ?? null,
    deleted: m.get('deleted') === true,
  }
}
