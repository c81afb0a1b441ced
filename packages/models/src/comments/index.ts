export { COMMENTS_ROOT, Comments, type CommentsOptions } from './comments.js'
export { CommentError, type CommentErrorCode } from './errors.js'
export type {
  CellAnchorPosition,
  CommentAnchor,
  CommentEvent,
  CommentThread,
  TextAnchorPosition,
  ThreadComment,
} from './types.js'
