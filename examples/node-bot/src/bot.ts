import type { DocumentSession, Identity } from '@valv/crypto'
import { Chat, type ChatEvent } from '@valv/models/chat'
import { openDocument } from '@valv/provider-websocket'
import type { StorageAdapter } from '@valv/storage'
import { WebSocket } from 'ws'
import type * as Y from 'yjs'

/** Options of {@link startBot}. */
export interface BotOptions {
  readonly relayUrl: string
  readonly identity: Identity
  /** Keeps the key store and the offline queue, so the bot restarts without a new invite. */
  readonly storage: StorageAdapter
  /** First run: the invite link (or its `#…` fragment) the bot joins with. */
  readonly invite?: string
  /** Later runs: the document id to reopen. */
  readonly docId?: string
  /** Clock, for tests. */
  readonly now?: () => Date
}

/** A running bot. */
export interface Bot {
  readonly docId: string
  readonly session: DocumentSession
  readonly doc: Y.Doc
  /** The bot's view of the document's chat (the `Chat` model of `@valv/models`). */
  readonly chat: Chat
  stop(): Promise<void>
}

/** Names of the current members, from the membership chain (signed certificates). */
function memberList(session: DocumentSession): string {
  const names = new Set<string>()
  for (const m of session.members()) if (m.role > 0 && m.displayName) names.add(m.displayName)
  return [...names].join(', ')
}

function answer(command: string, session: DocumentSession, now: Date): string | undefined {
  if (command === '/tid' || command === '/time') return now.toISOString()
  if (command === '/medlemmar' || command === '/members') return memberList(session)
  if (command === '/hjälp' || command === '/help') return '/tid, /medlemmar, /hjälp'
  return undefined
}

/**
 * Join (or reopen) a chat document as a member with the bot's own identity and answer `/…`
 * commands in the channel they were sent to (a reply in a thread stays in the thread). It uses
 * the `Chat` model like the agency portal, so its messages carry its member id and the portal
 * shows the name from its certificate. Everything is decrypted and encrypted here, in the
 * bot's process, exactly as in a browser; the relay sees ciphertext only.
 */
export async function startBot(options: BotOptions): Promise<Bot> {
  const { identity, storage } = options
  // Joins through the invite on the first run, reopens from the key store later.
  const { session, doc, close } = await openDocument({
    identity,
    relay: options.relayUrl,
    storage,
    ...(options.invite ? { invite: options.invite } : { docId: options.docId ?? '' }),
    WebSocketPolyfill: WebSocket as never,
  })
  const chat = new Chat(doc, { member: identity.userId })
  const onChange = (e: ChatEvent) => {
    if (e.type !== 'message' || e.change !== 'added') return
    const m = chat.message(e.channelId, e.messageId)
    if (m.author === chat.member || m.text === null) return // never answer ourselves
    const reply = answer(
      m.text.trim().split(/\s+/)[0] ?? '',
      session,
      options.now?.() ?? new Date(),
    )
    if (reply === undefined || !session.canWrite()) return
    if (m.threadOf === null) chat.send(e.channelId, reply)
    else chat.reply(e.channelId, m.id, reply)
  }
  const unsubscribe = chat.observe(onChange)
  return {
    docId: session.docId,
    session,
    doc,
    chat,
    async stop() {
      unsubscribe()
      chat.destroy()
      await close()
    },
  }
}
