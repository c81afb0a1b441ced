/**
 * Scale-out races (issue 14): two relay nodes on real PostgreSQL and real Redis receive
 * competing writes at the same instant; the store decides, exactly one wins everywhere.
 */
import { randomBytes } from 'node:crypto'
import { DocumentSession, Identity } from '@valv/crypto'
import { snapshotId } from '@valv/protocol'
import type { Frame } from '@valv/wire'
import { afterEach, describe, expect, it } from 'vitest'
import { answerTo, logOf, nodes, rawOn } from './cluster.js'
import { cleanup, connect, type Stack } from './stack.js'

afterEach(cleanup)

describe('scale-out races', () => {
  it('competing snapshot promotions on two nodes: exactly one becomes the base, everywhere', async () => {
    const { stacks, store } = await nodes(2)
    const [a, b] = stacks as [Stack, Stack]
    // Anna is the only writer, so each snapshot she uploads is promoted at once.
    const anna = await DocumentSession.create(await Identity.create({ displayName: 'Anna' }))
    // Her provider stores the membership chain, then leaves the wire to raw clients.
    const provider = await connect(a.url, anna)
    await provider.destroy()
    const onA = await rawOn(a.url, anna.docId)
    const onB = await rawOn(b.url, anna.docId)
    let counter = 1_000_000
    let ref = 1
    let head = 0
    let base: { seq: number; id: Uint8Array } = { seq: 0, id: new Uint8Array(32) }
    const ROUNDS = 4
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < 3; i++) {
        const envelope = await anna.seal('update', randomBytes(8), counter++)
        onA.send({ type: 'envelope', docId: anna.docId, ref, envelope })
        const ack = await onA.next(answerTo(ref++))
        expect(ack).toMatchObject({ type: 'ack' })
        head = (ack as { seq: number }).seq
      }
      await onB.next((f) => f.type === 'deliver' && f.seq === head)
      // Two different snapshots of the same base and range, one to each node at once.
      const position = { upToSeq: head, prevSeq: base.seq, prev: base.id }
      const sa = await anna.seal('snapshot', randomBytes(32), 0, position)
      const sb = await anna.seal('snapshot', randomBytes(32), 0, position)
      const [ra, rb] = [ref++, ref++]
      onA.send({
        type: 'snapshot-upload',
        docId: anna.docId,
        ref: ra,
        prevSeq: base.seq,
        upToSeq: head,
        snapshot: sa,
      })
      onB.send({
        type: 'snapshot-upload',
        docId: anna.docId,
        ref: rb,
        prevSeq: base.seq,
        upToSeq: head,
        snapshot: sb,
      })
      const answers = await Promise.all([onA.next(answerTo(ra)), onB.next(answerTo(rb))])
      const outcomes = answers.map((f) => (f.type === 'error' ? f.code : f.type))
      expect(outcomes.sort()).toEqual(['ack', 'snapshot-conflict'])
      const winner = answers[0]!.type === 'ack' ? sa : sb
      // The store holds the winner as the base; a fresh subscriber on either node gets it.
      expect(await store().snapshotSeq(anna.docId)).toBe(head)
      for (const url of [a.url, b.url]) {
        const fresh = await rawOn(url, anna.docId)
        const snap = fresh.frames.find(
          (f): f is Extract<Frame, { type: 'snapshot' }> => f.type === 'snapshot',
        )
        expect(snap?.confirmed).toBe(true)
        expect(Buffer.from(snap!.snapshot).equals(Buffer.from(winner))).toBe(true)
        fresh.ws.terminate()
      }
      expect(await logOf(store(), anna.docId)).toEqual([])
      base = { seq: head, id: snapshotId(anna.docId, winner) }
    }
  })
})
