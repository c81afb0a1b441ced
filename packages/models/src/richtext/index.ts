export { RichTextError, type RichTextErrorCode } from './errors.js'
export { htmlToRichText, richTextToHtml } from './html.js'
export { markdownToRichText, richTextToMarkdown } from './markdown.js'
export { richTextAbsolutePosition, richTextRelativePosition } from './positions.js'
export { repairNode as repairRichText } from './repair.js'
export {
  RICH_TEXT_FRAGMENT,
  RichText,
  type RichTextEvent,
  type RichTextJSON,
  type RichTextOptions,
} from './richtext.js'
export { BLOB_SCHEME, type RichTextMark, richTextSchema } from './schema.js'
