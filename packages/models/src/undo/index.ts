export {
  commentsUndo,
  presentationUndo,
  type RichTextUndoOptions,
  richTextUndo,
  sheetUndo,
} from './models.js'
export { type UndoState, UserUndo, type UserUndoOptions } from './user-undo.js'
