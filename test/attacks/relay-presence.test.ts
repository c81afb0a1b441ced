/**
 * A stranger (or a member of another document) subscribes to a document and floods presence.
 * Presence that no current member signed is neither forwarded nor queued without bound; it is
 * answered with a typed error and counted. A member's presence still flows.
 */
import { DocumentSession, Identity } from '@valv/crypto'
import { cleanup, type RawClient, type Stack, startStack, until } from '@valv/test-utils/stack'
import { RejectCode } from '@valv/wire'
import { afterEach, describe, expect, it } from 'vitest'

afterEach(cleanup)

async function subscribed(s: Stack, docId: string): Promise<RawClient> {
  return (await (await s.raw()).auth()).subscribe(docId)
}

describe('relay: presence only from current members', () => {
  it('drops and counts a non-member presence flood; forwards a member presence', async () => {
    const s = await startStack({ limits: { messagesPerSecond: 10_000, messageBurst: 10_000 } })
    const anna = await Identity.create({ displayName: 'Anna' })
    const doc = await DocumentSession.create(anna)
    await s.connect(doc)
    const watcher = await subscribed(s, doc.docId)
    const mallory = await subscribed(s, doc.docId)

    // Junk, and presence properly signed by a member of another document.
    const eve = await DocumentSession.create(await Identity.create({ displayName: 'Eve' }))
    const foreign = await eve.seal('presence', new Uint8Array(200), 0)
    for (let i = 0; i < 50; i++) {
      mallory.send({ type: 'presence', docId: doc.docId, payload: new Uint8Array(2000).fill(i) })
      mallory.send({ type: 'presence', docId: doc.docId, payload: foreign })
    }
    // A 1 MB presence frame is refused outright.
    mallory.send({ type: 'presence', docId: doc.docId, payload: new Uint8Array(1_000_000) })
    const metrics = s.relay.metrics
    await until(
      () =>
        (metrics.dropped.get('presence-not-member') ?? 0) +
          (metrics.dropped.get('presence-backlog') ?? 0) >=
        100,
    )
    await mallory.next((f) => f.type === 'error' && f.code === RejectCode.TooLarge)
    // The member's own presence (heads, sent once synced) is forwarded.
    const mine = await doc.seal('presence', new Uint8Array(10), 0)
    const annaRaw = await subscribed(s, doc.docId)
    annaRaw.send({ type: 'presence', docId: doc.docId, payload: mine })
    await watcher.next((f) => f.type === 'presence' && f.payload.length === mine.length)

    const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0
    const seen = watcher.frames.flatMap((f) => (f.type === 'presence' ? [f.payload] : []))
    expect(seen.some((p) => same(p, mine))).toBe(true)
    expect(seen.filter((p) => p.length === 2000 || same(p, foreign))).toEqual([])
    // Answered with typed errors (beyond the bounded backlog, dropped silently) and counted.
    expect(mallory.frames.some((f) => f.type === 'error' && f.code === 'forbidden')).toBe(true)
    expect(metrics.rejections.get(RejectCode.Forbidden) ?? 0).toBeGreaterThan(0)
    expect(mallory.closeCode).toBeUndefined()
  })
})
