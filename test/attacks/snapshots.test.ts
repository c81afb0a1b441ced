/**
 * Issue 12, items 2 and 5 (snapshot part): compaction must never erase or fork a document.
 * Real relay (`defaultVerifier()`), real `DocumentSession`s and `WebsocketProvider`s.
 */
import { encodeSnapshotBody, type Misbehaviour } from '@valv/core'
import { DocumentSession, Identity, Role } from '@valv/crypto'
import type { WebsocketProvider } from '@valv/provider-websocket'
import { DocumentStore } from '@valv/storage'
import { cleanup, type RawClient, type Stack, startStack, until } from '@valv/test-utils/stack'
import { decodeFrame, type Frame } from '@valv/wire'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'

afterEach(cleanup)

const text = (p: WebsocketProvider) => p.doc.getText('t').toString()

/** Type `s` one character per relay update, each acknowledged before the next. */
async function type(p: WebsocketProvider, s: string): Promise<void> {
  for (const ch of s) {
    const t = p.doc.getText('t')
    t.insert(t.length, ch)
    await until(() => p.unsyncedChanges === 0, 10_000, 'ack')
  }
}

/** A member who joined through an invite link with `role`, connected and synced. */
async function member(
  s: Stack,
  admin: DocumentSession,
  name: string,
  role: Role,
  options: Parameters<Stack['connect']>[1] = {},
) {
  const link = await admin.createInviteLink({ role, singleUse: true })
  const session = await DocumentSession.join(await Identity.create({ displayName: name }), link)
  const provider = await s.connect(session, options)
  await session.joined()
  return { session, provider }
}

async function logLength(s: Stack, docId: string): Promise<number> {
  let n = 0
  for await (const _ of new DocumentStore(s.storage).readLog(docId)) n++
  return n
}

/** A raw socket subscribed to `docId` (anyone may subscribe to this relay). */
async function subscriber(s: Stack, docId: string): Promise<RawClient> {
  return (await (await s.raw()).auth()).subscribe(docId)
}

function answer(c: RawClient, ref: number) {
  return c.next(
    (f): f is Extract<Frame, { type: 'ack' | 'error' }> =>
      (f.type === 'ack' || f.type === 'error') && f.ref === ref,
  )
}

function misbehaviours(p: WebsocketProvider): Misbehaviour[] {
  const out: Misbehaviour[] = []
  p.on('misbehaviour', (m) => out.push(m))
  return out
}

describe('attacks on compaction (snapshots)', () => {
  it('a non-member replaying an old signed snapshot is refused and erases nothing', async () => {
    const s = await startStack()
    const admin = await DocumentSession.create(await Identity.create({ displayName: 'Anna' }))
    const a = await s.connect(admin)
    const bo = await member(s, admin, 'Bo', Role.Editor, { compactAfter: 3 })
    const mallory = await subscriber(s, admin.docId)
    await type(bo.provider, 'abc')
    // Bo compacts 1..3; Anna recomputes it from the updates and confirms it.
    await until(() => bo.provider.binding.snapshotSeq === 3, 10_000, 'first snapshot')
    await until(() => a.binding.snapshotSeq === 3, 10_000, 'snapshot confirmed at the admin')
    const old = await mallory.next(
      (f): f is Extract<Frame, { type: 'snapshot' }> => f.type === 'snapshot' && f.upToSeq === 3,
    )
    await type(bo.provider, 'de')
    expect(await logLength(s, admin.docId)).toBe(2)

    // Replay it, claiming it covers the whole log, or as it was signed.
    const tries = [
      { prevSeq: 3, upToSeq: 5 },
      { prevSeq: 0, upToSeq: 5 },
      { prevSeq: 0, upToSeq: 3 },
    ]
    const codes: string[] = []
    for (const [i, t] of tries.entries()) {
      const ref = 100 + i
      mallory.send({
        type: 'snapshot-upload',
        docId: admin.docId,
        ref,
        ...t,
        snapshot: old.snapshot,
      })
      const r = await answer(mallory, ref)
      expect(r.type).toBe('error')
      if (r.type === 'error') codes.push(r.code)
    }
    expect(codes).toEqual(['snapshot-invalid', 'snapshot-invalid', 'snapshot-conflict'])
    expect(s.relay.metrics.rejections.get('snapshot-invalid')).toBe(2)
    expect(await logLength(s, admin.docId)).toBe(2)

    // A new member reads everything; an honest compaction afterwards goes through.
    const cy = await member(s, admin, 'Cy', Role.Viewer)
    await until(() => text(cy.provider) === 'abcde', 10_000, 'fresh member reads the full text')
    await type(bo.provider, 'f')
    await until(() => bo.provider.binding.snapshotSeq === 6, 10_000, 'later compaction')
    await until(() => cy.provider.binding.snapshotSeq === 6, 10_000, 'viewer learns the new base')
    expect(await logLength(s, admin.docId)).toBe(0)
    const dan = await member(s, admin, 'Dan', Role.Viewer)
    expect(dan.provider.binding.snapshotSeq).toBe(6)
    expect(text(dan.provider)).toBe('abcdef')
  })

  it('a snapshot whose text differs from its updates is caught, named and never used', async () => {
    const s = await startStack()
    const admin = await DocumentSession.create(await Identity.create({ displayName: 'Anna' }))
    const a = await s.connect(admin)
    const seenByAdmin = misbehaviours(a)
    const mal = await member(s, admin, 'Mallory', Role.Editor, { compactAfter: 0 })
    await type(a, 'beslut: nej')
    await until(() => text(mal.provider) === 'beslut: nej', 10_000, 'editor synced')

    // Mallory seals, with her real session, a snapshot of a document that says otherwise.
    const forged = new Y.Doc()
    forged.getText('t').insert(0, 'beslut: ja')
    const body = encodeSnapshotBody({
      gc: true,
      counters: mal.provider.binding.relayHeads(),
      state: Y.encodeStateAsUpdateV2(forged),
    })
    const upToSeq = mal.provider.binding.lastSeq
    const position = { upToSeq, prevSeq: 0, prev: new Uint8Array(32) }
    const snapshot = await mal.session.seal('snapshot', body, 0, position)
    const raw = await subscriber(s, admin.docId)
    raw.send({ type: 'snapshot-upload', docId: admin.docId, ref: 1, prevSeq: 0, upToSeq, snapshot })
    expect(await answer(raw, 1)).toMatchObject({ type: 'ack' })

    await until(
      () => seenByAdmin.some((m) => m.kind === 'forged-snapshot'),
      10_000,
      'admin detects the forgery',
    )
    const accusation = seenByAdmin.find((m) => m.kind === 'forged-snapshot')
    expect(accusation?.author).toBe(mal.session.author)
    expect(a.binding.snapshotSeq).toBe(0)
    // Nothing was compacted away, and a new reader sees the real text, never the forged one.
    expect(await logLength(s, admin.docId)).toBe(upToSeq)
    const cy = await member(s, admin, 'Cy', Role.Viewer)
    const seenByReader = misbehaviours(cy.provider)
    await until(() => text(cy.provider) === 'beslut: nej', 10_000, 'reader has the real text')
    expect(cy.provider.binding.snapshotSeq).toBe(0)
    // The reader holds the covered updates too, and catches it on the next subscription.
    cy.provider.disconnect()
    cy.provider.connect()
    await until(
      () => seenByReader.some((m) => m.kind === 'forged-snapshot'),
      10_000,
      'reader detects',
    )
    expect(seenByReader.find((m) => m.kind === 'forged-snapshot')?.author).toBe(mal.session.author)
    expect(text(cy.provider)).toBe('beslut: nej')
  })

  it('a refused honest compaction is surfaced to its uploader, which recovers', async () => {
    const s = await startStack()
    const admin = await DocumentSession.create(await Identity.create({ displayName: 'Anna' }))
    const a = await s.connect(admin)
    const net = delayedUploads()
    const bo = await member(s, admin, 'Bo', Role.Editor, {
      compactAfter: 5,
      WebSocketPolyfill: net.WebSocket as never,
    })
    const errors: { relayCode?: string }[] = []
    bo.provider.on('error', (e) => errors.push(e as { relayCode?: string }))
    const cy = await member(s, admin, 'Cy', Role.Editor, { compactAfter: 5 })
    // Both compact 1..5; Bo's upload is held on the network while Cy's is stored and confirmed.
    await type(a, 'hello')
    await until(() => net.held.length === 1, 10_000, "Bo's upload on the wire")
    await until(() => bo.provider.binding.snapshotSeq === 5, 10_000, "Cy's snapshot is the base")
    await cy.provider.destroy()
    net.release()
    await until(
      () => errors.some((e) => e.relayCode === 'snapshot-conflict'),
      10_000,
      'the refusal reaches Bo',
    )
    // Bo builds on the new base; its next compaction is stored and confirmed.
    await type(a, ' värld')
    await until(() => bo.provider.binding.snapshotSeq === 10, 10_000, "Bo's later compaction")
    await until(() => a.binding.snapshotSeq === 10, 10_000, 'the admin confirmed it')
    expect(await logLength(s, admin.docId)).toBe(1)
  })
})

/**
 * A WebSocket whose `snapshot-upload` frames are held back (a slow uplink) until `release()`;
 * everything else passes. The relay sees exactly what the client sent, only later.
 */
function delayedUploads() {
  const held: (() => void)[] = []
  let holding = true
  class Delayed extends WebSocket {
    override send(data: Uint8Array): void {
      const f = decodeFrame(new Uint8Array(data))
      if (holding && f.type === 'snapshot-upload') held.push(() => super.send(data))
      else super.send(data)
    }
  }
  return {
    WebSocket: Delayed,
    held,
    release() {
      holding = false
      for (const send of held) send()
    },
  }
}
