/** Where a thread is anchored: a range of rich text, or one spreadsheet cell. */
export type CommentAnchor =
  | {
      /** A range of a rich text fragment. */
      readonly kind: 'text'
      /** Encoded `Y.RelativePosition` of the range start (sticks to the first character). */
      readonly start: Uint8Array
      /** Encoded `Y.RelativePosition` of the range end (sticks to the last character). */
      readonly end: Uint8Array
    }
  | {
      /** A spreadsheet cell, by the stable ids that survive row/column inserts and deletes. */
      readonly kind: 'cell'
      /** Id of the sheet. */
      readonly sheetId: string
      /** Stable row id. */
      readonly rowId: string
      /** Stable column id. */
      readonly colId: string
    }

/** One comment of a thread. A deleted comment keeps its place but its body is erased. */
export interface ThreadComment {
  /** Stable id. */
  readonly id: string
  /** Author id (the app's user id). */
  readonly author: string
  /** Text of the comment; empty once deleted. */
  readonly body: string
  /** Creation time, ms since the epoch. */
  readonly createdAt: number
  /** Last edit time, or `null` if never edited. */
  readonly editedAt: number | null
  /** Whether the comment was deleted (its body is gone from the document, not just hidden). */
  readonly deleted: boolean
}

/** A thread: the first comment and its replies, on one anchor. */
export interface CommentThread {
  /** Stable id. */
  readonly id: string
  /** What the thread is about. */
  readonly anchor: CommentAnchor
  /** Whether the thread is resolved. */
  readonly resolved: boolean
  /** Who resolved it, or `null`. */
  readonly resolvedBy: string | null
  /** Comments in order (the first one opened the thread). */
  readonly comments: readonly ThreadComment[]
}

/** Where a text anchor is now, or `orphaned` if all of its text was deleted. */
export type TextAnchorPosition =
  | {
      /** The anchored text still exists. */
      readonly status: 'anchored'
      /** Current ProseMirror start position. */
      readonly from: number
      /** Current ProseMirror end position. */
      readonly to: number
      /** The anchored text as it reads now. */
      readonly text: string
    }
  | {
      /** The anchored text was deleted. */
      readonly status: 'orphaned'
    }

/** Where a cell anchor is now, or `orphaned` if its row, column or sheet was deleted. */
export type CellAnchorPosition =
  | {
      /** The cell still exists. */
      readonly status: 'anchored'
      /** Its current A1 address. */
      readonly address: string
    }
  | {
      /** The row, column or sheet was deleted. */
      readonly status: 'orphaned'
    }

/** A change to the comments, in comment terms. */
export interface CommentEvent {
  /** What happened to the thread. */
  readonly type: 'thread-added' | 'thread-removed' | 'thread-changed'
  /** The thread concerned. */
  readonly threadId: string
  /** Whether this replica's origin made the change. */
  readonly local: boolean
}
