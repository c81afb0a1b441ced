import { DocumentSession, Identity, Role } from '@valv/crypto'
import { WebsocketProvider } from '@valv/provider-websocket'
import { defaultVerifier, Relay, silentLogger } from '@valv/relay'
import { MemoryStorageAdapter } from '@valv/storage-memory'
import { expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { CHAT_ROOT, type ChatMessage, startBot } from '../src/bot.js'

const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

it('joins through an invite link with its own identity and answers in the chat', async () => {
  const relay = new Relay({
    storage: new MemoryStorageAdapter(),
    verifier: defaultVerifier(),
    logger: silentLogger,
  })
  const { port } = await relay.listen(0, '127.0.0.1')
  const relayUrl = `ws://127.0.0.1:${port}`
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
  const invite = await session.createInviteLink({ role: Role.Editor, singleUse: true })
  const bot = await startBot({
    relayUrl,
    invite,
    identity: await Identity.create({ displayName: 'Valv-bot' }),
    storage: new MemoryStorageAdapter(),
    now: () => new Date('2026-05-01T08:00:00Z'),
  })
  try {
    expect(bot.session.role).toBe(Role.Editor)
    const chat = doc.getArray<ChatMessage>(CHAT_ROOT)
    chat.push([{ author: 'Anna', text: '/tid', at: Date.now() }])
    await until(() => chat.length === 2)
    expect(chat.get(1)).toMatchObject({ author: 'Valv-bot', text: '2026-05-01T08:00:00.000Z' })
    chat.push([{ author: 'Anna', text: '/medlemmar', at: Date.now() }])
    await until(() => chat.length === 4)
    expect(chat.get(3)?.text).toBe('Anna, Valv-bot')
    chat.push([{ author: 'Anna', text: 'vanlig text', at: Date.now() }])
    await new Promise((r) => setTimeout(r, 300))
    expect(chat.length).toBe(5) // only commands are answered
  } finally {
    await bot.stop()
    await provider.destroy()
    await relay.close()
  }
})
