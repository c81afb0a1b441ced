import { DocumentSession, Identity, Role } from '@valv/crypto'
import { Chat } from '@valv/models/chat'
import { WebsocketProvider } from '@valv/provider-websocket'
import { MemoryStorageAdapter } from '@valv/storage-memory'
import { cleanup, startStack, until } from '@valv/test-utils/stack'
import { expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { startBot } from '../src/bot.js'

it('joins a Chat through an invite link with its own identity and answers there', async () => {
  const relayUrl = (await startStack()).url
  const anna = await Identity.create({ displayName: 'Anna' })
  const session = await DocumentSession.create(anna)
  const doc = new Y.Doc()
  const provider = new WebsocketProvider({
    url: relayUrl,
    doc,
    docId: session.docId,
    document: session,
    WebSocketPolyfill: WebSocket as never,
  })
  await session.attach(provider)
  // Anna's side is the Chat model too, as in the agency portal.
  const chat = new Chat(doc, { member: anna.userId })
  const channel = chat.createChannel('Kansliet')
  const invite = await session.createInviteLink({ role: Role.Editor, singleUse: true })
  const botIdentity = await Identity.create({ displayName: 'Valv-bot' })
  const bot = await startBot({
    relayUrl,
    invite,
    identity: botIdentity,
    storage: new MemoryStorageAdapter(),
    now: () => new Date('2026-05-01T08:00:00Z'),
  })
  const messages = () => chat.page(channel).messages
  try {
    expect(bot.session.role).toBe(Role.Editor)
    chat.send(channel, '/tid')
    await until(() => messages().length === 2)
    expect(messages()[1]).toMatchObject({
      author: botIdentity.userId, // a member id, which the portal names from the membership
      text: '2026-05-01T08:00:00.000Z',
    })
    chat.send(channel, '/medlemmar')
    await until(() => messages().length === 4)
    expect(messages()[3]?.text).toBe('Anna, Valv-bot')
    // A command in a thread is answered in that thread.
    const root = chat.send(channel, 'en fråga')
    chat.reply(channel, root, '/hjälp')
    await until(() => chat.thread(channel, root).messages.length === 2)
    expect(chat.thread(channel, root).messages[1]).toMatchObject({
      author: botIdentity.userId,
      text: '/tid, /medlemmar, /hjälp',
    })
    await new Promise((r) => setTimeout(r, 300))
    expect(messages().length).toBe(5) // plain text is not answered
    expect(bot.chat.page(channel).messages.map((m) => m.id)).toEqual(messages().map((m) => m.id))
  } finally {
    await bot.stop()
    await provider.destroy()
    await cleanup()
  }
})
