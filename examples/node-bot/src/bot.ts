import type { DocumentSession, Identity } from '@valv/crypto'
import { openDocument } from '@valv/provider-websocket'
import type { StorageAdapter } from '@valv/storage'
import { WebSocket } from 'ws'
import type * as Y from 'yjs'

/** A chat message, in the layout the agency portal's chat uses. */
export interface ChatMessage {
  readonly author: string
  readonly text: string
  readonly at: number
}

/** Root of the chat array in a chat document (the agency portal's layout). */
export const CHAT_ROOT = 'valv.portal.chat'

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
  stop(): Promise<void>
}

function answer(command: string, session: DocumentSession, now: Date): string | undefined {
  if (command === '/tid' || command === '/time') return now.toISOString()
  if (command === '/medlemmar' || command === '/members') {
    return session
      .members()
      .filter((m) => m.role > 0)
      .map((m) => m.displayName)
      .join(', ')
  }
  if (command === '/hjälp' || command === '/help') return '/tid, /medlemmar, /hjälp'
  return undefined
}

/**
 * Join (or reopen) a chat document as a member with the bot's own identity and answer `/…`
 * commands. Everything the bot reads and writes is decrypted and encrypted here, in the bot's
 * process, exactly as in a browser; the relay sees ciphertext only.
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
  const messages = doc.getArray<ChatMessage>(CHAT_ROOT)
  const name = identity.card.displayName
  const onChange = (event: Y.YArrayEvent<ChatMessage>) => {
    if (event.transaction.local) return // never answer ourselves
    for (const item of event.changes.added) {
      for (const m of item.content.getContent() as ChatMessage[]) {
        const reply = answer(
          m.text.trim().split(/\s+/)[0] ?? '',
          session,
          options.now?.() ?? new Date(),
        )
        if (reply !== undefined && session.canWrite()) {
          messages.push([{ author: name, text: reply, at: Date.now() }])
        }
      }
    }
  }
  messages.observe(onChange)
  return {
    docId: session.docId,
    session,
    doc,
    async stop() {
      messages.unobserve(onChange)
      await close()
    },
  }
}
