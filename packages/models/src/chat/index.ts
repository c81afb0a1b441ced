export { CHAT_MAX_TEXT, Chat, type ChatOptions } from './chat.js'
export { ChatError, type ChatErrorCode } from './errors.js'
export type {
  ChatChannel,
  ChatEvent,
  ChatMessage,
  ChatPage,
  ChatPageOptions,
} from './types.js'
