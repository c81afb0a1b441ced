import { snapshotId } from '@valv/protocol'
import { encodeFrame } from '@valv/wire'
import { describe, expect, it } from 'vitest'
import { TestMemoryStorage } from './memory-storage.js'
import { setupMembers, startRelay, write } from './setup.js'
import { member, Role, signConfirmation, signMember, signSnapshot, signUpdate } from './signed.js'

describe('relay: ordered log of verified ciphertext', () => {
  it('multiplexes documents over one socket and routes each only to its subscribers', async () => {
    const h = await startRelay()
    const a = await h.client(['doc-1', 'doc-2'])
    const b = await h.client(['doc-1'])
    const c = await h.client(['doc-2'])
    const cast1 = await setupMembers(a, 'doc-1')
    const cast2 = await setupMembers(a, 'doc-2')
    expect(await write(a, cast1.editor, 'doc-1', 1)).toBe(1)
    expect(await write(a, cast2.editor, 'doc-2', 1)).toBe(1)
    expect(await write(a, cast2.editor, 'doc-2', 2)).toBe(2)
    const atB = await b.next((f) => f.type === 'deliver')
    expect(atB).toMatchObject({ docId: 'doc-1', seq: 1 })
    expect(await c.next((f) => f.type === 'deliver')).toMatchObject({ docId: 'doc-2', seq: 1 })
    expect(await c.next((f) => f.type === 'deliver')).toMatchObject({ docId: 'doc-2', seq: 2 })
    await new Promise((r) => setTimeout(r, 50))
    expect(b.frames.filter((f) => f.type === 'deliver')).toEqual([])
    // The writer does not get its own envelopes back.
    expect(a.frames.filter((f) => f.type === 'deliver')).toEqual([])
  })

  it('ack means durable: a restarted relay on the same store serves every acked update', async () => {
    const storage = new TestMemoryStorage()
    const h1 = await startRelay({ storage })
    const a = await h1.client(['doc'])
    const cast = await setupMembers(a, 'doc')
    for (let i = 1; i <= 5; i++) expect(await write(a, cast.editor, 'doc', i)).toBe(i)
    await h1.relay.close()
    const h2 = await startRelay({ storage })
    const b = await h2.client()
    b.send({ type: 'subscribe', docId: 'doc', sinceSeq: 2, snapshotSeq: 0, membershipFrom: 0 })
    const synced = await b.next((f) => f.type === 'synced')
    expect(synced).toMatchObject({ headSeq: 5 })
    expect(b.frames.filter((f) => f.type === 'membership')).toHaveLength(3)
    expect(
      b.frames.filter((f) => f.type === 'deliver').map((f) => f.type === 'deliver' && f.seq),
    ).toEqual([3, 4, 5])
    // Counter state survived too: the same envelope again is acknowledged with its original
    // seq (idempotent retry), another envelope with counter 5 is stale.
    expect(await write(b, cast.editor, 'doc', 5)).toBe(5)
    expect(await write(b, cast.editor, 'doc', 5, new Uint8Array([99]))).toBe('stale')
    expect(await write(b, cast.editor, 'doc', 6)).toBe(6)
  })

  it('rejects malformed, oversized, forged and replayed frames with typed errors and stays up', async () => {
    const h = await startRelay({ limits: { maxFrameBytes: 4096 } })
    const a = await h.client(['doc'])
    const other = await h.client(['doc'])
    const cast = await setupMembers(a, 'doc')
    const nextError = () => a.next((f) => f.type === 'error')
    a.sendRaw(new Uint8Array([4, 200]))
    expect(await nextError()).toMatchObject({ code: 'malformed' })
    a.sendRaw('text frame')
    expect(await nextError()).toMatchObject({ code: 'malformed' })
    expect(await write(a, cast.editor, 'doc', 1, new Uint8Array(5000))).toBe('too-large')
    const forged = signUpdate(cast.editor, 'doc', 2, new Uint8Array([1, 2, 3]))
    forged[forged.length - 1] = (forged.at(-1) ?? 0) ^ 1
    a.send({ type: 'envelope', docId: 'doc', ref: 77, envelope: forged })
    expect(await nextError()).toMatchObject({ code: 'bad-signature', ref: 77 })
    // Signed for another document: the signature binds the doc id.
    a.send({
      type: 'envelope',
      docId: 'doc',
      ref: 78,
      envelope: signUpdate(cast.editor, 'x', 3, new Uint8Array(1)),
    })
    expect(await nextError()).toMatchObject({ code: 'bad-signature', ref: 78 })
    expect(await write(a, cast.editor, 'doc', 4)).toBe(1)
    expect(await write(a, cast.editor, 'doc', 4)).toBe(1) // a resend: same ack, stored once
    expect(await write(a, cast.editor, 'doc', 4, new Uint8Array([7, 7]))).toBe('stale')
    expect(await write(a, cast.editor, 'doc', 3)).toBe('stale')
    a.send({ type: 'envelope', docId: 'not-mine', ref: 79, envelope: new Uint8Array(1) })
    expect(await nextError()).toMatchObject({ code: 'not-subscribed', ref: 79 })
    // Nothing rejected reached the other subscriber; the accepted one did, with seq 1.
    expect(await other.next((f) => f.type === 'deliver')).toMatchObject({ seq: 1 })
    expect(await write(other, cast.editor, 'doc', 9)).toBe(2)
    expect(a.closeCode).toBeUndefined()
    const res = await fetch(`http://127.0.0.1:${h.relay.address().port}/metrics`)
    const text = await res.text()
    expect(text).toContain('valv_relay_rejections_total{code="stale"} 2')
    expect(text).toContain('valv_relay_rejections_total{code="bad-signature"} 2')
    expect(text).toContain('valv_relay_rejections_total{code="malformed"} 2')
    expect(text).toContain('valv_relay_rejections_total{code="too-large"} 1')
    expect(text).toContain('valv_relay_rejections_total{code="not-subscribed"} 1')
  })

  it("rejects a viewer's and a removed member's writes", async () => {
    const h = await startRelay()
    const a = await h.client(['doc'])
    const cast = await setupMembers(a, 'doc')
    const stranger = member()
    expect(await write(a, cast.viewer, 'doc', 1)).toBe('forbidden')
    expect(await write(a, stranger, 'doc', 1)).toBe('forbidden')
    expect(await write(a, cast.editor, 'doc', 1)).toBe(1)
    const removal = signMember(cast.admin, 'doc', 3, cast.editor.pub, Role.Removed)
    a.send({ type: 'membership-append', docId: 'doc', ref: 5, index: 3, entry: removal })
    expect(await a.next((f) => f.type === 'ack' && f.ref === 5)).toMatchObject({ seq: 3 })
    expect(await write(a, cast.editor, 'doc', 2)).toBe('forbidden')
    // A non-admin cannot append membership, and compare-and-append refuses a stale index.
    const selfPromote = signMember(cast.viewer, 'doc', 4, cast.viewer.pub, Role.Admin)
    a.send({ type: 'membership-append', docId: 'doc', ref: 6, index: 4, entry: selfPromote })
    expect(await a.next((f) => f.type === 'error')).toMatchObject({ code: 'membership-invalid' })
    const late = signMember(cast.admin, 'doc', 3, stranger.pub, Role.Editor)
    a.send({ type: 'membership-append', docId: 'doc', ref: 7, index: 3, entry: late })
    expect(await a.next((f) => f.type === 'error')).toMatchObject({ code: 'membership-conflict' })
  })

  it('compacts by compare-and-swap snapshot; a joiner gets newest snapshot + tail', async () => {
    const storage = new TestMemoryStorage()
    const h = await startRelay({ storage })
    const a = await h.client(['doc'])
    const cast = await setupMembers(a, 'doc')
    for (let i = 1; i <= 6; i++) await write(a, cast.editor, 'doc', i)
    const none = new Uint8Array(32)
    const upload = (snapshot: Uint8Array, prevSeq: number, upToSeq: number, ref: number) => {
      a.send({ type: 'snapshot-upload', docId: 'doc', ref, prevSeq, upToSeq, snapshot })
      return a.next((f) => (f.type === 'ack' || f.type === 'error') && f.ref === ref)
    }
    const snap = (
      prevSeq: number,
      upToSeq: number,
      counter: number,
      ref: number,
      prev: Uint8Array = none,
    ) =>
      upload(
        signSnapshot(cast.editor, 'doc', counter, { upToSeq, prevSeq, prev }, new Uint8Array(8)),
        prevSeq,
        upToSeq,
        ref,
      )
    const confirm = (upToSeq: number, id: Uint8Array, ref: number) => {
      const confirmation = signConfirmation(cast.admin, 'doc', id)
      a.send({ type: 'snapshot-confirm', docId: 'doc', ref, upToSeq, confirmation })
      return a.next((f) => (f.type === 'ack' || f.type === 'error') && f.ref === ref)
    }
    const logKeys = () => [...storage.values.keys()].filter((k) => k.includes('/log/'))
    const s4 = signSnapshot(
      cast.editor,
      'doc',
      100,
      { upToSeq: 4, prevSeq: 0, prev: none },
      new Uint8Array(8),
    )
    expect(await upload(s4, 0, 4, 1)).toMatchObject({ type: 'ack', seq: 4 })
    // Pending until a second writer confirms it: nothing is deleted yet.
    expect(logKeys()).toHaveLength(6)
    const id4 = snapshotId('doc', s4)
    expect(await confirm(4, id4, 2)).toMatchObject({ type: 'ack', seq: 4 })
    expect(await snap(0, 5, 101, 3)).toMatchObject({ type: 'error', code: 'snapshot-conflict' })
    expect(await snap(4, 99, 102, 4, id4)).toMatchObject({
      type: 'error',
      code: 'snapshot-invalid',
    })
    expect(logKeys()).toHaveLength(2)
    const b = await h.client()
    await b.subscribe('doc')
    const kinds = b.frames.map((f) =>
      f.type === 'deliver' ? `d${f.seq}` : f.type === 'snapshot' ? `s${f.upToSeq}` : f.type,
    )
    expect(kinds).toEqual(['membership', 'membership', 'membership', 's4', 'd5', 'd6'])
    // Chained: the next snapshot must name 4 (and its id) as its predecessor; the old one goes.
    expect(await snap(4, 6, 103, 5, id4)).toMatchObject({ type: 'ack', seq: 6 })
    expect(await write(a, cast.editor, 'doc', 7)).toBe(7)
    const s6 = [...b.frames].reverse().find((f) => f.type === 'snapshot' && f.upToSeq === 6)
    expect(s6).toMatchObject({ confirmed: false })
    expect(
      await confirm(6, snapshotId('doc', (s6 as { snapshot: Uint8Array }).snapshot), 6),
    ).toMatchObject({ type: 'ack', seq: 6 })
    expect([...storage.values.keys()].filter((k) => k.includes('/snap/'))).toHaveLength(1)
    expect(logKeys()).toHaveLength(1)
  })

  it('keeps a pending snapshot and every update it covers across a restart', async () => {
    const storage = new TestMemoryStorage()
    const h1 = await startRelay({ storage })
    const a = await h1.client(['doc'])
    const cast = await setupMembers(a, 'doc')
    for (let i = 1; i <= 3; i++) await write(a, cast.editor, 'doc', i)
    const position = { upToSeq: 3, prevSeq: 0, prev: new Uint8Array(32) }
    const snapshot = signSnapshot(cast.editor, 'doc', 9, position, new Uint8Array(8))
    a.send({ type: 'snapshot-upload', docId: 'doc', ref: 1, prevSeq: 0, upToSeq: 3, snapshot })
    expect(await a.next((f) => f.type === 'ack' && f.ref === 1)).toMatchObject({ seq: 3 })
    await h1.relay.close()
    const h2 = await startRelay({ storage })
    const b = await h2.client()
    await b.subscribe('doc')
    const kinds = b.frames.map((f) =>
      f.type === 'deliver' ? `d${f.seq}` : f.type === 'snapshot' ? `s${f.upToSeq}` : f.type,
    )
    expect(kinds).toEqual(['membership', 'membership', 'membership', 'd1', 'd2', 'd3', 's3'])
    // The author cannot confirm its own snapshot; another writer can, and only then it compacts.
    const self = signConfirmation(cast.editor, 'doc', snapshotId('doc', snapshot))
    b.send({ type: 'snapshot-confirm', docId: 'doc', ref: 2, upToSeq: 3, confirmation: self })
    expect(await b.next((f) => f.type === 'error')).toMatchObject({ code: 'forbidden' })
    const byAdmin = signConfirmation(cast.admin, 'doc', snapshotId('doc', snapshot))
    b.send({ type: 'snapshot-confirm', docId: 'doc', ref: 3, upToSeq: 3, confirmation: byAdmin })
    expect(await b.next((f) => f.type === 'ack')).toMatchObject({ ref: 3, seq: 3 })
    expect([...storage.values.keys()].filter((k) => k.includes('/log/'))).toHaveLength(0)
  })

  it('relays presence to the other subscribers without storing it', async () => {
    const storage = new TestMemoryStorage()
    const h = await startRelay({ storage })
    const a = await h.client(['doc'])
    const b = await h.client(['doc'])
    const cast = await setupMembers(a, 'doc')
    const before = storage.values.size
    const signed = signUpdate(cast.viewer, 'doc', 0, new Uint8Array([9, 9]))
    a.send({ type: 'presence', docId: 'doc', payload: signed })
    expect(await b.next((f) => f.type === 'presence')).toMatchObject({ payload: signed })
    expect(storage.values.size).toBe(before)
    a.ws.send(encodeFrame({ type: 'ping', nonce: 5 }))
    expect(await a.next((f) => f.type === 'pong')).toMatchObject({ nonce: 5 })
  })
})

describe('relay: hostile input', () => {
  it('survives arbitrary byte frames from an authenticated client (property)', async () => {
    const fc = (await import('fast-check')).default
    const h = await startRelay({ limits: { messagesPerSecond: 1e6, messageBurst: 1e6 } })
    const fuzzer = await h.client(['doc'])
    const honest = await h.client(['doc'])
    const cast = await setupMembers(honest, 'doc')
    let sent = 0
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (raw) => {
        fuzzer.sendRaw(raw)
        sent++
      }),
      { numRuns: 300, seed: 42 },
    )
    fuzzer.send({ type: 'ping', nonce: 7 })
    await fuzzer.next((f) => f.type === 'pong' && f.nonce === 7, 10_000)
    expect(sent).toBe(300)
    expect(fuzzer.closeCode).toBeUndefined()
    expect(await write(honest, cast.editor, 'doc', 1)).toBe(1)
    // Random bytes can never pass signature verification: nothing was stored but our write.
    expect(h.relay.metrics.rejections.get('malformed')).toBeGreaterThan(0)
  })
})
