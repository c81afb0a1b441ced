import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Chat } from './chat.js'
import { BUCKET_SPAN } from './ids.js'

describe('paging a long history', () => {
  it('reads the newest page of a 100k-message channel from the newest buckets only', () => {
    const doc = new Y.Doc()
    const chat = new Chat(doc, { member: 'anna', now: () => 0 })
    const ch = chat.createChannel('big')
    const total = 100_000
    for (let i = 0; i < total; i += 1000) {
      doc.transact(() => {
        for (let j = i; j < i + 1000; j++) chat.send(ch, `m${j}`)
      })
    }
    // a fresh replica with a cold index: the bound holds without anything cached from writing
    const copy = new Y.Doc()
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
    const reader = new Chat(copy, { member: 'bo' })
    const page = reader.page(ch, { limit: 50 })
    expect(page.messages.map((m) => m.text)).toEqual(
      Array.from({ length: 50 }, (_, i) => `m${total - 50 + i}`),
    )
    expect(page.hasMore).toBe(true)
    expect(page.scanned).toBeLessThanOrEqual(2 * BUCKET_SPAN)
    // walking back three pages stays within the same bound per page
    let before = page.messages[0]?.id
    for (let p = 1; p <= 3; p++) {
      const older = reader.page(ch, before === undefined ? { limit: 50 } : { before, limit: 50 })
      expect(older.messages[49]?.text).toBe(`m${total - 50 * p - 1}`)
      expect(older.scanned).toBeLessThanOrEqual(2 * BUCKET_SPAN)
      before = older.messages[0]?.id
    }
    // unread counting after a recent marker reads only the levels after it
    reader.markRead(ch, page.messages[0]?.id)
    expect(reader.unreadCount(ch)).toBe(49)
    expect(reader.all(ch)).toHaveLength(total)
  }, 120_000)
})
