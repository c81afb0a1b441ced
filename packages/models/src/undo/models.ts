import type { Comments } from '../comments/comments.js'
import type { RichText } from '../richtext/richtext.js'
import type { SheetWorkbook } from '../sheet/workbook.js'
import type { Presentation } from '../slides/presentation.js'
import { UserUndo, type UserUndoOptions } from './user-undo.js'

/** Options of {@link richTextUndo}. */
export interface RichTextUndoOptions extends UserUndoOptions {
  /**
   * More origins of this user's edits to track, e.g. y-prosemirror's `ySyncPluginKey` when the
   * same user also types in a bound editor.
   */
  readonly extraOrigins?: readonly unknown[]
}

/** Undo/redo of one user's edits to a rich text document (its {@link RichText.origin}). */
export function richTextUndo(text: RichText, options: RichTextUndoOptions = {}): UserUndo {
  return UserUndo.forTypes(text.fragment, [text.origin, ...(options.extraOrigins ?? [])], options)
}

/** Undo/redo of one user's edits to a workbook (all its sheets), by the workbook's origin. */
export function sheetUndo(workbook: SheetWorkbook, options: UserUndoOptions = {}): UserUndo {
  return new UserUndo(workbook.createUndoManager(options))
}

/**
 * Undo/redo of one user's edits to a presentation, by its origin. Text box content edited
 * through {@link RichText} is included when that `RichText` uses the presentation's origin.
 */
export function presentationUndo(presentation: Presentation): UserUndo {
  return new UserUndo(presentation.createUndoManager())
}

/** Undo/redo of one user's comment edits (threads, replies, resolve), by its origin. */
export function commentsUndo(comments: Comments, options: UserUndoOptions = {}): UserUndo {
  return UserUndo.forTypes(comments.doc.getMap(comments.root), [comments.origin], options)
}
