import { MembershipState, Role, snapshotId } from '@valv/protocol'
import { TestMemoryStorage } from '@valv/test-utils/relay'
import { encodeFrame } from '@valv/wire'
import { describe, expect, it } from 'vitest'
import { entry, envelope, key } from '../../protocol/test/chain.js'
import { appendChain, newCast, send, setupMembers, startRelay, write } from './setup.js'

const none = new Uint8Array(32)
const bytes = (n: number) => new Uint8Array([n & 255])

describe('relay: ordered log of verified ciphertext', () => {
  it('multiplexes documents over one socket and routes each only to its subscribers', async () => {
    const h = await startRelay()
    const [cast1, cast2] = [await newCast(), await newCast()]
    const a = await h.client([cast1.docId, cast2.docId])
    const b = await h.client([cast1.docId])
    const c = await h.client([cast2.docId])
    await appendChain(a, cast1)
    await appendChain(a, cast2)
    expect(await write(a, cast1.editor, 1)).toBe(1)
    expect(await write(a, cast2.editor, 1)).toBe(1)
    expect(await write(a, cast2.editor, 2)).toBe(2)
    const atB = await b.next((f) => f.type === 'deliver')
    expect(atB).toMatchObject({ docId: cast1.docId, seq: 1 })
    expect(await c.next((f) => f.type === 'deliver')).toMatchObject({ docId: cast2.docId, seq: 1 })
    expect(await c.next((f) => f.type === 'deliver')).toMatchObject({ docId: cast2.docId, seq: 2 })
    await new Promise((r) => setTimeout(r, 50))
    expect(b.frames.filter((f) => f.type === 'deliver')).toEqual([])
    // The writer does not get its own envelopes back.
    expect(a.frames.filter((f) => f.type === 'deliver')).toEqual([])
  })

  it('ack means durable: a restarted relay on the same store serves every acked update', async () => {
    const storage = new TestMemoryStorage()
    const h1 = await startRelay({ storage })
    const a = await h1.client()
    const cast = await setupMembers(a)
    const sent: Uint8Array[] = []
    for (let i = 1; i <= 5; i++) {
      sent.push(await cast.editor.seal('update', bytes(i), i))
      expect(await send(a, cast.docId, sent[i - 1] as Uint8Array)).toBe(i)
    }
    await h1.relay.close()
    const h2 = await startRelay({ storage })
    const b = await h2.client()
    b.send({ type: 'subscribe', docId: cast.docId, sinceSeq: 2, snapshotSeq: 0, membershipFrom: 0 })
    const synced = await b.next((f) => f.type === 'synced')
    expect(synced).toMatchObject({ headSeq: 5 })
    expect(b.frames.filter((f) => f.type === 'membership')).toHaveLength(cast.shared.chain().length)
    expect(
      b.frames.filter((f) => f.type === 'deliver').map((f) => f.type === 'deliver' && f.seq),
    ).toEqual([3, 4, 5])
    // Counter state survived too: the same envelope again is acknowledged with its original
    // seq (idempotent retry), another envelope with counter 5 is stale.
    expect(await send(b, cast.docId, sent[4] as Uint8Array)).toBe(5)
    expect(await write(b, cast.editor, 5, new Uint8Array([99]))).toBe('stale')
    expect(await write(b, cast.editor, 6)).toBe(6)
  })

  it('rejects malformed, oversized, forged and replayed frames with typed errors and stays up', async () => {
    const h = await startRelay({ limits: { maxFrameBytes: 4096 } })
    const cast = await newCast()
    const a = await h.client([cast.docId])
    const other = await h.client([cast.docId])
    await appendChain(a, cast)
    const nextError = () => a.next((f) => f.type === 'error')
    a.sendRaw(new Uint8Array([4, 200]))
    expect(await nextError()).toMatchObject({ code: 'malformed' })
    a.sendRaw('text frame')
    expect(await nextError()).toMatchObject({ code: 'malformed' })
    expect(await write(a, cast.editor, 1, new Uint8Array(5000))).toBe('too-large')
    const forged = await cast.editor.seal('update', new Uint8Array([1, 2, 3]), 2)
    forged[forged.length - 1] = (forged.at(-1) ?? 0) ^ 1
    a.send({ type: 'envelope', docId: cast.docId, ref: 77, envelope: forged })
    expect(await nextError()).toMatchObject({ code: 'bad-signature', ref: 77 })
    // Signed for another document by its editor (same author index): the signature binds the id.
    const elsewhere = await newCast()
    a.send({
      type: 'envelope',
      docId: cast.docId,
      ref: 78,
      envelope: await elsewhere.editor.seal('update', new Uint8Array(1), 3),
    })
    expect(await nextError()).toMatchObject({ code: 'bad-signature', ref: 78 })
    const fourth = await cast.editor.seal('update', bytes(4), 4)
    expect(await send(a, cast.docId, fourth)).toBe(1)
    expect(await send(a, cast.docId, fourth)).toBe(1) // a resend: same ack, stored once
    expect(await write(a, cast.editor, 4, new Uint8Array([7, 7]))).toBe('stale')
    expect(await write(a, cast.editor, 3)).toBe('stale')
    a.send({ type: 'envelope', docId: 'not-mine', ref: 79, envelope: new Uint8Array(1) })
    expect(await nextError()).toMatchObject({ code: 'not-subscribed', ref: 79 })
    // Nothing rejected reached the other subscriber; the accepted one did, with seq 1.
    expect(await other.next((f) => f.type === 'deliver')).toMatchObject({ seq: 1 })
    expect(await write(other, cast.editor, 9)).toBe(2)
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
    const a = await h.client()
    const cast = await setupMembers(a)
    const held = cast.shared.chain().length
    // A key that is no member signs as an author index the chain does not have.
    const stranger = envelope(cast.docId, key(), { author: held + 10 })
    expect(await write(a, cast.viewer, 1)).toBe('forbidden')
    expect(await send(a, cast.docId, stranger)).toBe('forbidden')
    expect(await write(a, cast.editor, 1)).toBe(1)
    // Sealed before the removal, sent after it.
    const late = await cast.editor.seal('update', bytes(2), 2)
    await cast.admin.unshare((cast.shared.identities[1] as { userId: string }).userId)
    expect(await appendChain(a, cast, held)).toBeGreaterThan(held)
    expect(await send(a, cast.docId, late)).toBe('forbidden')
    // A key that is not an admin's cannot append membership (`forbidden`: the entry is well
    // formed, its signer may not make it), and compare-and-append refuses a stale index.
    const chain = cast.shared.chain()
    const state = new MembershipState(cast.docId)
    for (const e of chain) state.append(e)
    const viewer = cast.viewer.myIndex as number
    const selfPromote = entry(state, key(), {
      kind: 'set-role',
      member: viewer,
      role: Role.Admin,
      until: 0,
    })
    a.send({
      type: 'membership-append',
      docId: cast.docId,
      ref: 6,
      index: chain.length,
      entry: selfPromote,
    })
    expect(await a.next((f) => f.type === 'error')).toMatchObject({ code: 'forbidden', ref: 6 })
    const stale = chain.length - 1
    a.send({
      type: 'membership-append',
      docId: cast.docId,
      ref: 7,
      index: stale,
      entry: chain[stale] as Uint8Array,
    })
    expect(await a.next((f) => f.type === 'error')).toMatchObject({ code: 'membership-conflict' })
  })

  it('compacts by compare-and-swap snapshot; a joiner gets newest snapshot + tail', async () => {
    const storage = new TestMemoryStorage()
    const h = await startRelay({ storage })
    const a = await h.client()
    const cast = await setupMembers(a)
    const docId = cast.docId
    const held = cast.shared.chain().length
    for (let i = 1; i <= 6; i++) await write(a, cast.editor, i)
    const upload = (snapshot: Uint8Array, prevSeq: number, upToSeq: number, ref: number) => {
      a.send({ type: 'snapshot-upload', docId, ref, prevSeq, upToSeq, snapshot })
      return a.next((f) => (f.type === 'ack' || f.type === 'error') && f.ref === ref)
    }
    const seal = (counter: number, upToSeq: number, prevSeq: number, prev: Uint8Array) =>
      cast.editor.seal('snapshot', new Uint8Array(8), counter, { upToSeq, prevSeq, prev })
    const snap = async (
      prevSeq: number,
      upToSeq: number,
      counter: number,
      ref: number,
      prev: Uint8Array = none,
    ) => upload(await seal(counter, upToSeq, prevSeq, prev), prevSeq, upToSeq, ref)
    const confirm = async (upToSeq: number, id: Uint8Array, ref: number) => {
      const confirmation = await cast.admin.confirmSnapshot(id)
      a.send({ type: 'snapshot-confirm', docId, ref, upToSeq, confirmation })
      return a.next((f) => (f.type === 'ack' || f.type === 'error') && f.ref === ref)
    }
    const logKeys = () => [...storage.values.keys()].filter((k) => k.includes('/log/'))
    const s4 = await seal(100, 4, 0, none)
    expect(await upload(s4, 0, 4, 1)).toMatchObject({ type: 'ack', seq: 4 })
    // Pending until a second writer confirms it: nothing is deleted yet.
    expect(logKeys()).toHaveLength(6)
    const id4 = snapshotId(docId, s4)
    expect(await confirm(4, id4, 2)).toMatchObject({ type: 'ack', seq: 4 })
    expect(await snap(0, 5, 101, 3)).toMatchObject({ type: 'error', code: 'snapshot-conflict' })
    expect(await snap(4, 99, 102, 4, id4)).toMatchObject({
      type: 'error',
      code: 'snapshot-invalid',
    })
    expect(logKeys()).toHaveLength(2)
    const b = await h.client()
    await b.subscribe(docId)
    const kinds = b.frames.map((f) =>
      f.type === 'deliver' ? `d${f.seq}` : f.type === 'snapshot' ? `s${f.upToSeq}` : f.type,
    )
    expect(kinds).toEqual([...Array(held).fill('membership'), 's4', 'd5', 'd6'])
    // Chained: the next snapshot must name 4 (and its id) as its predecessor; the old one goes.
    expect(await snap(4, 6, 103, 5, id4)).toMatchObject({ type: 'ack', seq: 6 })
    expect(await write(a, cast.editor, 7)).toBe(7)
    const s6 = [...b.frames].reverse().find((f) => f.type === 'snapshot' && f.upToSeq === 6)
    expect(s6).toMatchObject({ confirmed: false })
    expect(
      await confirm(6, snapshotId(docId, (s6 as { snapshot: Uint8Array }).snapshot), 6),
    ).toMatchObject({ type: 'ack', seq: 6 })
    expect([...storage.values.keys()].filter((k) => k.includes('/snap/'))).toHaveLength(1)
    expect(logKeys()).toHaveLength(1)
  })

  it('keeps a pending snapshot and every update it covers across a restart', async () => {
    const storage = new TestMemoryStorage()
    const h1 = await startRelay({ storage })
    const a = await h1.client()
    const cast = await setupMembers(a)
    const docId = cast.docId
    for (let i = 1; i <= 3; i++) await write(a, cast.editor, i)
    const position = { upToSeq: 3, prevSeq: 0, prev: none }
    const snapshot = await cast.editor.seal('snapshot', new Uint8Array(8), 9, position)
    a.send({ type: 'snapshot-upload', docId, ref: 1, prevSeq: 0, upToSeq: 3, snapshot })
    expect(await a.next((f) => f.type === 'ack' && f.ref === 1)).toMatchObject({ seq: 3 })
    await h1.relay.close()
    const h2 = await startRelay({ storage })
    const b = await h2.client()
    await b.subscribe(docId)
    const kinds = b.frames.map((f) =>
      f.type === 'deliver' ? `d${f.seq}` : f.type === 'snapshot' ? `s${f.upToSeq}` : f.type,
    )
    const held = cast.shared.chain().length
    expect(kinds).toEqual([...Array(held).fill('membership'), 'd1', 'd2', 'd3', 's3'])
    // The author cannot confirm its own snapshot; another writer can, and only then it compacts.
    const self = await cast.editor.confirmSnapshot(snapshotId(docId, snapshot))
    b.send({ type: 'snapshot-confirm', docId, ref: 2, upToSeq: 3, confirmation: self })
    expect(await b.next((f) => f.type === 'error')).toMatchObject({ code: 'forbidden' })
    const byAdmin = await cast.admin.confirmSnapshot(snapshotId(docId, snapshot))
    b.send({ type: 'snapshot-confirm', docId, ref: 3, upToSeq: 3, confirmation: byAdmin })
    expect(await b.next((f) => f.type === 'ack')).toMatchObject({ ref: 3, seq: 3 })
    expect([...storage.values.keys()].filter((k) => k.includes('/log/'))).toHaveLength(0)
  })

  it('relays presence to the other subscribers without storing it', async () => {
    const storage = new TestMemoryStorage()
    const h = await startRelay({ storage })
    const cast = await newCast()
    const a = await h.client([cast.docId])
    const b = await h.client([cast.docId])
    await appendChain(a, cast)
    const before = storage.values.size
    const signed = await cast.viewer.seal('presence', new Uint8Array([9, 9]), 1)
    a.send({ type: 'presence', docId: cast.docId, payload: signed })
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
    const cast = await newCast()
    const fuzzer = await h.client([cast.docId])
    const honest = await h.client([cast.docId])
    await appendChain(honest, cast)
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
    expect(await write(honest, cast.editor, 1)).toBe(1)
    // Random bytes can never pass signature verification: nothing was stored but our write.
    expect(h.relay.metrics.rejections.get('malformed')).toBeGreaterThan(0)
  })
})
