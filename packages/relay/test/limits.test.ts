import { TestClient } from '@valv/test-utils/relay'
import { CloseCode } from '@valv/wire'
import { describe, expect, it } from 'vitest'
import { appendChain, newCast, startRelay, track, write } from './setup.js'

describe('relay limits', () => {
  it('closes unauthenticated connections over the message or byte budget, or too slow', async () => {
    const h = await startRelay({ limits: { preAuthMaxMessages: 3, authTimeoutMs: 200 } })
    const chatty = track(await TestClient.connect(h.url))
    for (let i = 0; i < 4; i++) chatty.send({ type: 'ping', nonce: i })
    expect(await chatty.closed()).toBe(CloseCode.AuthTimeout)
    const big = track(await TestClient.connect(h.url))
    big.sendRaw(new Uint8Array(20_000))
    expect(await big.closed()).toBe(CloseCode.AuthTimeout)
    const idle = track(await TestClient.connect(h.url))
    expect(await idle.closed()).toBe(CloseCode.AuthTimeout)
    const early = track(await TestClient.connect(h.url))
    early.send({ type: 'subscribe', docId: 'doc', sinceSeq: 0, snapshotSeq: 0, membershipFrom: 0 })
    expect(await early.next((f) => f.type === 'error')).toMatchObject({ code: 'unauthorized' })
  })

  it('rate-limits a flooding connection with a retryable close; others keep working', async () => {
    const h = await startRelay({ limits: { messagesPerSecond: 10, messageBurst: 20 } })
    const flood = await h.client()
    const calm = await h.client(['doc'])
    for (let i = 0; i < 50; i++) flood.send({ type: 'ping', nonce: i })
    expect(await flood.closed()).toBe(CloseCode.RateLimited)
    calm.send({ type: 'ping', nonce: 1 })
    expect(await calm.next((f) => f.type === 'pong')).toBeTruthy()
  })

  it('caps documents per connection and subscribers per document', async () => {
    const h = await startRelay({ limits: { maxDocsPerConnection: 2, maxSubscribersPerDoc: 2 } })
    const a = await h.client(['d1', 'd2'])
    a.send({ type: 'subscribe', docId: 'd3', sinceSeq: 0, snapshotSeq: 0, membershipFrom: 0 })
    expect(await a.next((f) => f.type === 'error')).toMatchObject({ code: 'limit-exceeded' })
    await h.client(['d1'])
    const third = await h.client()
    third.send({ type: 'subscribe', docId: 'd1', sinceSeq: 0, snapshotSeq: 0, membershipFrom: 0 })
    expect(await third.next((f) => f.type === 'error')).toMatchObject({
      docId: 'd1',
      code: 'limit-exceeded',
    })
  })

  it('drops a slow consumer with a retryable close instead of buffering without bound', async () => {
    const h = await startRelay({ limits: { maxBufferedBytes: 256 * 1024 } })
    const cast = await newCast()
    const writer = await h.client([cast.docId])
    const slow = await h.client([cast.docId])
    await appendChain(writer, cast)
    // Stop reading on the slow client's TCP socket: the relay's send buffer fills up.
    ;(slow.ws as unknown as { _socket: { pause(): void } })._socket.pause()
    const payload = new Uint8Array(512 * 1024)
    let counter = 1
    while (h.relay.metrics.closes.get(CloseCode.SlowConsumer) === undefined && counter < 200) {
      expect(await write(writer, cast.editor, counter++, payload)).toBeTypeOf('number')
    }
    expect(h.relay.metrics.closes.get(CloseCode.SlowConsumer)).toBe(1)
    ;(slow.ws as unknown as { _socket: { resume(): void } })._socket.resume()
    expect(await slow.closed()).toBe(CloseCode.SlowConsumer)
    // The writer was never affected and everything it sent is stored.
    expect(await write(writer, cast.editor, counter, new Uint8Array(1))).toBe(counter)
  })

  it('refuses browser origins outside the allow-list with permanent close 4430', async () => {
    const h = await startRelay({ allowedOrigins: ['https://docs.example.se'] })
    const evil = track(await TestClient.connect(h.url, { origin: 'https://evil.example' }))
    expect(await evil.closed()).toBe(CloseCode.OriginForbidden)
    const good = track(await TestClient.connect(h.url, { origin: 'https://docs.example.se' }))
    good.send({ type: 'ping', nonce: 1 })
    expect(await good.next((f) => f.type === 'pong')).toBeTruthy()
  })
})
