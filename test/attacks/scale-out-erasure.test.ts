/**
 * Erasure with several relay nodes (real PostgreSQL, real Redis): node A erases a document that
 * node B holds open, with a subscriber and an upload in progress there. With the bus, B evicts
 * the room at once (its subscriber gets `erased`) and refuses the upload's next chunk; with
 * every bus message lost, B's write path reads the tombstone and refuses writes and chunks, and
 * the quiet-room poll tells B's subscribers. Nothing of the document stays in the store.
 */
import { randomBytes } from 'node:crypto'
import { DocumentSession, Identity, signEraseRequest } from '@valv/crypto'
import type { DocumentStore } from '@valv/storage'
import { cleanup, connect, type RawClient, type Stack } from '@valv/test-utils/stack'
import type { Frame } from '@valv/wire'
import { afterEach, describe, expect, it } from 'vitest'
import { answerTo, logOf, nodes, rawOn } from './cluster.js'

afterEach(cleanup)

const codeOf = (f: Frame) => (f.type === 'error' ? f.code : f.type)
const sid = (c: RawClient) =>
  (c.frames.find((f) => f.type === 'auth-ok') as { sessionId: string }).sessionId
const blobId = 'd'.repeat(43)

async function blobsOf(store: DocumentStore, docId: string): Promise<string[]> {
  const names: string[] = []
  for await (const n of store.listBlobs(docId)) names.push(n)
  return names
}

/** Two nodes; Anna's document open on both; on B a subscriber with an upload under way. */
async function setup(options: { partitioned?: boolean; clusterPollMs: number }) {
  const env = await nodes(2, { ...options, audit: { key: randomBytes(32) } })
  const [a, b] = env.stacks as [Stack, Stack]
  const anna = await DocumentSession.create(await Identity.create({ displayName: 'Anna' }))
  const provider = await connect(a.url, anna)
  provider.doc.getText('t').insert(0, 'secret')
  await provider.destroy()
  const docId = anna.docId
  const onB = await rawOn(b.url, docId)
  const grant = await anna.signBlobGrant({ op: 'upload', blobId, size: 0, sessionId: sid(onB) })
  onB.send({ type: 'blob-begin', docId, ref: 1, blobId, size: 0, grant })
  expect(await onB.next(answerTo(1))).toMatchObject({ type: 'ack' })
  const data = new Uint8Array(500).fill(3)
  onB.send({ type: 'blob-chunk', docId, ref: 2, blobId, offset: 0, data })
  expect(await onB.next(answerTo(2))).toMatchObject({ type: 'ack', seq: 500 })
  expect((await blobsOf(env.store(), docId)).some((n) => n.startsWith('part.'))).toBe(true)
  // Node A erases.
  const onA = await rawOn(a.url, docId)
  const request = await signEraseRequest(anna, {
    sessionId: sid(onA),
    chainLength: anna.membershipLength(),
  })
  onA.send({ type: 'erase', docId, ref: 1, request })
  expect(codeOf(await onA.next(answerTo(1)))).toBe('ack')
  return { ...env, a, b, anna, docId, onB, data }
}

describe('scale-out: erasure reaches every node', () => {
  it('over the bus: B evicts the room at once, its subscriber gets erased, chunks and subscribes are refused', async () => {
    const { b, anna, docId, onB, data, store } = await setup({ clusterPollMs: 0 })
    const notice = await onB.next((f) => f.type === 'error' && f.ref === 0)
    expect(codeOf(notice)).toBe('erased')
    onB.send({ type: 'blob-chunk', docId, ref: 3, blobId, offset: 500, data })
    expect(codeOf(await onB.next(answerTo(3)))).toBe('erased')
    const envelope = await anna.seal('update', new Uint8Array([1, 2, 3]), 1000)
    onB.send({ type: 'envelope', docId, ref: 4, envelope })
    expect(['erased', 'not-subscribed']).toContain(codeOf(await onB.next(answerTo(4))))
    const fresh = await (await b.raw()).auth()
    fresh.send({ type: 'subscribe', docId, sinceSeq: 0, snapshotSeq: 0, membershipFrom: 0 })
    expect(codeOf(await fresh.next((f) => f.type === 'error'))).toBe('erased')
    expect(await blobsOf(store(), docId)).toEqual([])
    expect(await logOf(store(), docId)).toEqual([])
  }, 60_000)

  it('with the bus message lost: B refuses the next write and chunk from the tombstone, keeps nothing', async () => {
    const { anna, docId, onB, data, store } = await setup({ partitioned: true, clusterPollMs: 0 })
    // B heard nothing; the room is still open there. The write is refused all the same.
    const envelope = await anna.seal('update', new Uint8Array([1, 2, 3]), 1000)
    onB.send({ type: 'envelope', docId, ref: 3, envelope })
    expect(codeOf(await onB.next(answerTo(3)))).toBe('erased')
    onB.send({ type: 'blob-chunk', docId, ref: 4, blobId, offset: 500, data })
    expect(codeOf(await onB.next(answerTo(4)))).toBe('erased')
    expect(await blobsOf(store(), docId)).toEqual([])
    expect(await logOf(store(), docId)).toEqual([])
  }, 60_000)

  it('with the bus message lost: a new subscriber on B is refused from the tombstone, never served the open room', async () => {
    const { b, docId, onB } = await setup({ partitioned: true, clusterPollMs: 0 })
    // B still holds the room in memory (no bus, no poll); a newcomer must not get its log.
    const fresh = await (await b.raw()).auth()
    fresh.send({ type: 'subscribe', docId, sinceSeq: 0, snapshotSeq: 0, membershipFrom: 0 })
    expect(codeOf(await fresh.next((f) => f.type === 'error'))).toBe('erased')
    expect(fresh.frames.some((f) => f.type === 'deliver' || f.type === 'membership')).toBe(false)
    // And B's existing subscriber is told too: the room left memory.
    expect(codeOf(await onB.next((f) => f.type === 'error' && f.ref === 0))).toBe('erased')
  }, 60_000)

  it('with the bus message lost: the quiet-room poll tells B’s subscribers and stops the upload', async () => {
    const { docId, onB, data, store } = await setup({ partitioned: true, clusterPollMs: 50 })
    const notice = await onB.next((f) => f.type === 'error' && f.ref === 0, 10_000)
    expect(codeOf(notice)).toBe('erased')
    onB.send({ type: 'blob-chunk', docId, ref: 3, blobId, offset: 500, data })
    expect(codeOf(await onB.next(answerTo(3)))).toBe('erased')
    expect(await blobsOf(store(), docId)).toEqual([])
  }, 60_000)
})
