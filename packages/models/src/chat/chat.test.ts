import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Chat } from './chat.js'
import { ChatError } from './errors.js'
import type { ChatEvent } from './types.js'

const sync = (a: Y.Doc, b: Y.Doc) => {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
}

const hasBytes = (doc: Y.Doc, text: string): boolean => {
  const hay = Y.encodeStateAsUpdate(doc)
  const needle = new TextEncoder().encode(text)
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer
    return true
  }
  return false
}

describe('chat', () => {
  it('sends, edits, reacts, threads and lists channels', () => {
    let t = 1000
    const chat = new Chat(new Y.Doc(), { member: 'anna', now: () => t++ })
    const ch = chat.createChannel('  general ')
    expect(chat.channels()).toEqual([
      { id: ch, name: 'general', createdBy: 'anna', createdAt: 1000 },
    ])
    const a = chat.send(ch, 'Hej!')
    const b = chat.send(ch, 'Second')
    chat.edit(ch, a, 'Hej alla!')
    expect(chat.toggleReaction(ch, a, '👍')).toBe(true)
    const r = chat.reply(ch, a, 'svar')
    const r2 = chat.reply(ch, r, 'svar på svar')
    expect(r.startsWith(`${a}/`)).toBe(true)
    expect(r2.startsWith(`${a}/`)).toBe(true)
    const page = chat.page(ch)
    expect(page.messages.map((m) => m.id)).toEqual([a, b])
    expect(page.messages[0]).toMatchObject({
      text: 'Hej alla!',
      author: 'anna',
      editedAt: expect.any(Number),
      reactions: { '👍': ['anna'] },
      replyCount: 2,
      threadOf: null,
    })
    expect(chat.thread(ch, a).messages.map((m) => m.text)).toEqual(['svar', 'svar på svar'])
    expect(chat.message(ch, r).threadOf).toBe(a)
    expect(chat.toggleReaction(ch, a, '👍')).toBe(false)
    expect(chat.message(ch, a).reactions).toEqual({})
    chat.renameChannel(ch, 'allmänt')
    expect(chat.channels()[0]?.name).toBe('allmänt')
  })

  it('rejects bad input and leaves the document unchanged', () => {
    const doc = new Y.Doc()
    const chat = new Chat(doc, { member: 'anna' })
    const ch = chat.createChannel('c')
    const a = chat.send(ch, 'x')
    const before = Y.encodeStateAsUpdate(doc)
    const bad: [() => unknown, string][] = [
      [() => chat.send(ch, '   '), 'empty-message'],
      [() => chat.send(ch, 'x'.repeat(20_001)), 'too-long'],
      [() => chat.send('nope', 'x'), 'unknown-channel'],
      [() => chat.edit(ch, '9.9', 'y'), 'unknown-message'],
      [() => chat.edit(ch, 'garbage', 'y'), 'unknown-message'],
      [() => chat.toggleReaction(ch, a, ''), 'bad-argument'],
      [() => chat.page(ch, { limit: 0 }), 'bad-argument'],
      [() => chat.thread(ch, a, { before: a }), 'bad-argument'],
      [() => new Chat(doc, { member: '' }), 'bad-argument'],
    ]
    for (const [fn, code] of bad) {
      expect(fn).toThrowError(expect.objectContaining({ code }))
      expect(fn).toThrowError(ChatError)
    }
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before)
  })

  it('orders concurrent appends identically on every replica, with stable ids', () => {
    const d1 = new Y.Doc()
    const d2 = new Y.Doc()
    const c1 = new Chat(d1, { member: 'a' })
    const c2 = new Chat(d2, { member: 'b' })
    const ch = c1.createChannel('c')
    sync(d1, d2)
    const x = c1.send(ch, 'from a')
    const y = c2.send(ch, 'from b')
    sync(d1, d2)
    const ids1 = c1.page(ch).messages.map((m) => m.id)
    expect(ids1).toEqual(c2.page(ch).messages.map((m) => m.id))
    expect(new Set(ids1)).toEqual(new Set([x, y]))
    const z = c2.send(ch, 'after both')
    sync(d1, d2)
    expect(c1.page(ch).messages.at(-1)?.id).toBe(z)
  })

  it('tracks read markers per member and counts unread messages by others', () => {
    const d1 = new Y.Doc()
    const d2 = new Y.Doc()
    const anna = new Chat(d1, { member: 'anna' })
    const bo = new Chat(d2, { member: 'bo' })
    const ch = anna.createChannel('c')
    const ids = [anna.send(ch, '1'), anna.send(ch, '2'), anna.send(ch, '3')]
    anna.send(ch, 'own')
    sync(d1, d2)
    expect(bo.unreadCount(ch)).toBe(4)
    expect(anna.unreadCount(ch)).toBe(0)
    bo.markRead(ch, ids[1])
    expect(bo.unreadCount(ch)).toBe(2)
    bo.markRead(ch, ids[0])
    expect(bo.readMarker(ch)).toBe(ids[1])
    anna.redact(ch, ids[2] as string)
    sync(d1, d2)
    expect(bo.unreadCount(ch)).toBe(1)
    bo.markRead(ch)
    expect(bo.unreadCount(ch)).toBe(0)
    // a second device of bo with an older marker does not move bo's marker back
    const d3 = new Y.Doc()
    Y.applyUpdate(d3, Y.encodeStateAsUpdate(d2))
    const bo2 = new Chat(d3, { member: 'bo' })
    expect(bo2.unreadCount(ch)).toBe(0)
    sync(d2, d1)
    expect(anna.readMarker(ch, 'bo')).toBe(bo.readMarker(ch))
  })

  it('describes changes in chat terms', () => {
    const d1 = new Y.Doc()
    const d2 = new Y.Doc()
    const c1 = new Chat(d1, { member: 'a' })
    const c2 = new Chat(d2, { member: 'b' })
    const events: ChatEvent[] = []
    c2.observe((e) => events.push(e))
    const ch = c1.createChannel('c')
    const m = c1.send(ch, 'x')
    sync(d1, d2)
    c1.edit(ch, m, 'y')
    sync(d1, d2)
    c1.toggleReaction(ch, m, '🎉')
    sync(d1, d2)
    c1.redact(ch, m)
    sync(d1, d2)
    expect(events).toEqual([
      { type: 'channel', channelId: ch },
      { type: 'message', channelId: ch, messageId: m, change: 'edited' },
      { type: 'message', channelId: ch, messageId: m, change: 'reaction' },
      { type: 'message', channelId: ch, messageId: m, change: 'redacted' },
    ])
  })
})

describe('redaction', () => {
  it('removes the text (and earlier edits) from the encoded state, keeping a tombstone', () => {
    const doc = new Y.Doc()
    const chat = new Chat(doc, { member: 'anna' })
    const ch = chat.createChannel('c')
    const id = chat.send(ch, 'personnummer 19121212-1212')
    chat.edit(ch, id, 'hemligt edited text')
    chat.toggleReaction(ch, id, '🔥')
    const keep = chat.send(ch, 'kept text stays')
    expect(hasBytes(doc, 'hemligt edited text')).toBe(true)
    chat.redact(ch, id)
    expect(hasBytes(doc, '19121212-1212')).toBe(false)
    expect(hasBytes(doc, 'hemligt edited text')).toBe(false)
    expect(hasBytes(doc, '🔥')).toBe(false)
    expect(hasBytes(doc, 'kept text stays')).toBe(true)
    expect(chat.message(ch, id)).toMatchObject({
      text: null,
      redacted: { by: 'anna' },
      reactions: {},
    })
    expect(chat.message(ch, keep).text).toBe('kept text stays')
    expect(() => chat.edit(ch, id, 'again')).toThrowError(
      expect.objectContaining({ code: 'redacted' }),
    )
    // a replica that loads the redacted state never sees the text either
    const other = new Y.Doc()
    Y.applyUpdate(other, Y.encodeStateAsUpdate(doc))
    expect(hasBytes(other, '19121212-1212')).toBe(false)
  })

  it('removes an edit made concurrently with the redaction once both meet', () => {
    const d1 = new Y.Doc()
    const d2 = new Y.Doc()
    const c1 = new Chat(d1, { member: 'a' })
    const c2 = new Chat(d2, { member: 'b' })
    const ch = c1.createChannel('c')
    const id = c1.send(ch, 'original')
    sync(d1, d2)
    c1.redact(ch, id)
    c2.edit(ch, id, 'concurrent secret')
    c2.toggleReaction(ch, id, '😀')
    sync(d1, d2)
    sync(d1, d2)
    for (const d of [d1, d2]) {
      expect(hasBytes(d, 'concurrent secret')).toBe(false)
      expect(hasBytes(d, 'original')).toBe(false)
    }
    expect(c1.message(ch, id)).toEqual(c2.message(ch, id))
    expect(c2.message(ch, id).text).toBe(null)
  })

  it('refuses to redact on a document without gc, unchanged', () => {
    const doc = new Y.Doc({ gc: false })
    const chat = new Chat(doc, { member: 'a' })
    const ch = chat.createChannel('c')
    const id = chat.send(ch, 'x')
    expect(() => chat.redact(ch, id)).toThrowError(
      expect.objectContaining({ code: 'redaction-unavailable' }),
    )
    expect(chat.message(ch, id).text).toBe('x')
  })
})
