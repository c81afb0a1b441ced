import type * as Y from 'yjs'
import type { ChatMessage } from './types.js'

/** Keys of a message map. Short because every message carries them. */
export const K = {
  author: 'a',
  sentAt: 's',
  redacted: 'x',
  /** Nested map holding everything a redaction removes: text, edit time, reactions. */
  content: 'c',
  text: 't',
  editedAt: 'e',
} as const

const REACTION = 'r\u0000'

/** Map key of one member's reaction. */
export function reactionKey(emoji: string, member: string): string {
  return `${REACTION}${emoji}\u0000${member}`
}

/** Whether a map key is a reaction key. */
export function isReactionKey(key: string): boolean {
  return key.startsWith(REACTION)
}

/** The content map of a message, `undefined` once redacted. */
export function contentOf(m: Y.Map<unknown>): Y.Map<unknown> | undefined {
  return m.get(K.content) as Y.Map<unknown> | undefined
}

/** Read a message map into the public shape. */
export function readMessage(
  m: Y.Map<unknown>,
  id: string,
  channelId: string,
  threadOf: string | null,
  replyCount: number,
): ChatMessage {
  const redacted = (m.get(K.redacted) as { by: string; at: number } | undefined) ?? null
  const reactions: Record<string, string[]> = {}
  const c = redacted ? undefined : contentOf(m)
  if (c) {
    for (const k of c.keys()) {
      if (!isReactionKey(k)) continue
      const [emoji, member] = k.slice(REACTION.length).split('\u0000') as [string, string]
      const list = reactions[emoji] ?? []
      list.push(member)
      reactions[emoji] = list
    }
    for (const list of Object.values(reactions)) list.sort()
  }
  const text = c?.get(K.text)
  return {
    id,
    channelId,
    threadOf,
    author: m.get(K.author) as string,
    text: typeof text === 'string' ? text : null,
    sentAt: m.get(K.sentAt) as number,
    editedAt: (c?.get(K.editedAt) as number | undefined) ?? null,
    redacted: redacted ? { by: redacted.by, at: redacted.at } : null,
    reactions,
    replyCount,
  }
}
