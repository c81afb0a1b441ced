/** A channel as listed by {@link Chat.channels}. */
export interface ChatChannel {
  /** Stable id. */
  readonly id: string
  /** Display name (last writer wins). */
  readonly name: string
  /** Member who created the channel. */
  readonly createdBy: string
  /** Creation time, ms since the epoch, from the creator's clock. */
  readonly createdAt: number
}

/** One message as the UI shows it. */
export interface ChatMessage {
  /** Stable id, identical on every replica (replies carry their thread root as prefix). */
  readonly id: string
  /** Channel the message belongs to. */
  readonly channelId: string
  /** Id of the thread root for a reply, `null` for a channel message. */
  readonly threadOf: string | null
  /** Member who wrote it. */
  readonly author: string
  /** Current text; `null` once redacted. */
  readonly text: string | null
  /** Send time, ms since the epoch, from the author's clock (display only, not the order). */
  readonly sentAt: number
  /** Time of the last edit, `null` if never edited. */
  readonly editedAt: number | null
  /** Redaction record, `null` if the message is live. */
  readonly redacted: { readonly by: string; readonly at: number } | null
  /** Reactions: emoji to the sorted member ids that reacted with it. */
  readonly reactions: Readonly<Record<string, readonly string[]>>
  /** Number of replies in the message's thread (always 0 for replies). */
  readonly replyCount: number
}

/** One page of a channel or thread, oldest first. */
export interface ChatPage {
  /** Messages of the page in display order (oldest first). */
  readonly messages: readonly ChatMessage[]
  /** Whether older messages exist; pass `messages[0].id` as `before` to get them. */
  readonly hasMore: boolean
  /** How many stored messages were examined to build the page (the cost of the read). */
  readonly scanned: number
}

/** Options of {@link Chat.page} and {@link Chat.thread}. */
export interface ChatPageOptions {
  /** Return messages strictly older than this message id (default: the newest). */
  readonly before?: string
  /** Maximum number of messages (default 50). */
  readonly limit?: number
}

/** A change described in chat terms, delivered to {@link Chat.observe} listeners. */
export type ChatEvent =
  | { readonly type: 'channel'; readonly channelId: string }
  | {
      readonly type: 'message'
      readonly channelId: string
      readonly messageId: string
      readonly change: 'added' | 'edited' | 'redacted' | 'reaction'
    }
  | { readonly type: 'read'; readonly channelId: string; readonly member: string }
