/**
 * Scale-out races (issue 14): two relay nodes on real PostgreSQL and real Redis receive
 * competing writes at the same instant; the store decides, exactly one wins everywhere.
 */
import { randomBytes } from 'node:crypto'
import { DocumentSession, Identity } from '@valv/crypto'
import { snapshotId } from '@valv/protocol'
import { cleanup, connect, type RawClient, type Stack, until } from '@valv/test-utils/stack'
import type { Frame } from '@valv/wire'
import { afterEach, describe, expect, it } from 'vitest'
import { answerTo, logOf, nodes, rawOn } from './cluster.js'

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

  it('file quota and upload ownership hold across two nodes', async () => {
    const { stacks, store } = await nodes(2, { limits: { fileQuotaBytes: 1000 } })
    const [a, b] = stacks as [Stack, Stack]
    const anna = await DocumentSession.create(await Identity.create({ displayName: 'Anna' }))
    const provider = await connect(a.url, anna)
    await provider.destroy()
    const docId = anna.docId
    const onA = await rawOn(a.url, docId)
    const onB = await rawOn(b.url, docId)
    const sid = (c: RawClient) =>
      (c.frames.find((f) => f.type === 'auth-ok') as { sessionId: string }).sessionId
    const blob = (i: number) => `${String(i).padStart(3, '0')}${'b'.repeat(40)}`
    const begin = async (c: RawClient, ref: number, blobId: string, size: number) => {
      const grant = await anna.signBlobGrant({ op: 'upload', blobId, size, sessionId: sid(c) })
      c.send({ type: 'blob-begin', docId, ref, blobId, size, grant })
    }
    // Two 600-byte uploads on two nodes at once: the quota (1000) admits exactly one.
    let ref = 1
    for (let round = 0; round < 4; round++) {
      const [ra, rb] = [ref++, ref++]
      const [ba, bb] = [blob(2 * round), blob(2 * round + 1)]
      await Promise.all([begin(onA, ra, ba, 600), begin(onB, rb, bb, 600)])
      const answers = await Promise.all([onA.next(answerTo(ra)), onB.next(answerTo(rb))])
      const outcomes = answers.map((f) => (f.type === 'error' ? f.code : f.type))
      expect(outcomes.sort()).toEqual(['ack', 'quota-exceeded'])
      // The winner deletes its upload; the next round starts from an empty quota.
      const [winner, id] = answers[0]!.type === 'ack' ? [onA, ba] : [onB, bb]
      const grant = await anna.signBlobGrant({
        op: 'delete',
        blobId: id,
        size: 0,
        sessionId: sid(winner),
      })
      const del = ref++
      winner.send({ type: 'blob-delete', docId, ref: del, blobId: id, grant })
      expect(await winner.next(answerTo(del))).toMatchObject({ type: 'ack' })
    }
    // An upload running on node A cannot be taken over from node B...
    const id = blob(99)
    await begin(onA, ref, id, 800)
    expect(await onA.next(answerTo(ref++))).toMatchObject({ type: 'ack', seq: 0 })
    onA.send({
      type: 'blob-chunk',
      docId,
      ref,
      blobId: id,
      offset: 0,
      data: new Uint8Array(300).fill(1),
    })
    expect(await onA.next(answerTo(ref++))).toMatchObject({ type: 'ack', seq: 300 })
    await begin(onB, ref, id, 800)
    expect(await onB.next(answerTo(ref++))).toMatchObject({ type: 'error', code: 'blob-conflict' })
    // ...until its connection ends: then B resumes from what A stored, and finishes it.
    onA.ws.terminate()
    let resumed: Frame | undefined
    await until(
      async () => {
        await begin(onB, ref, id, 800)
        resumed = await onB.next(answerTo(ref++))
        return resumed.type === 'ack'
      },
      10_000,
      'resume on B',
    )
    expect(resumed).toMatchObject({ type: 'ack', seq: 300 })
    onB.send({
      type: 'blob-chunk',
      docId,
      ref,
      blobId: id,
      offset: 300,
      data: new Uint8Array(500).fill(2),
    })
    expect(await onB.next(answerTo(ref++))).toMatchObject({ type: 'ack', seq: 800 })
    onB.send({ type: 'blob-commit', docId, ref, blobId: id, size: 800 })
    expect(await onB.next(answerTo(ref++))).toMatchObject({ type: 'ack', seq: 800 })
    const names: string[] = []
    for await (const n of store().listBlobs(docId)) if (!n.startsWith('member-')) names.push(n)
    expect(names).toEqual([`file.${id}.800`])
  })
})
