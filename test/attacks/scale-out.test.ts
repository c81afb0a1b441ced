/**
 * Scale-out (issue 14): relay nodes sharing real PostgreSQL (the log, decided by
 * compare-and-append) and real Redis (fan-out). Clients on different nodes edit one document
 * live; writes racing on two nodes get a gap-free, duplicate-free log; competing membership
 * entries leave exactly one winner; a SIGKILLed node loses no acknowledged edit and its
 * clients carry on at another node.
 */
import { DocumentSession, Identity, PublicCard, Role } from '@valv/crypto'
import type { WebsocketProvider } from '@valv/provider-websocket'
import {
  cleanup,
  connect,
  onCleanup,
  type Stack,
  startRelayProcess,
  until,
} from '@valv/test-utils/stack'
import type { Frame } from '@valv/wire'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { answerTo, expectGapFreeUnique, logOf, nodes, REDIS, rawOn, shared } from './cluster.js'

afterEach(cleanup)

const text = (p: WebsocketProvider) => p.doc.getText('t').toString()

/** Admin Anna on `a`, and each further name as an editor joined through `b`. */
async function team(a: string, b: string, names: string[]) {
  const annaId = await Identity.create({ displayName: 'Anna' })
  const anna = await DocumentSession.create(annaId)
  const annaP = await connect(a, anna)
  const members: { session: DocumentSession; provider: WebsocketProvider }[] = []
  for (const name of names) {
    const id = await Identity.create({ displayName: name })
    await anna.share(PublicCard.parse(id.card.toString()), Role.Editor)
    const session = await DocumentSession.open(id, anna.docId)
    const provider = await connect(b, session)
    await session.joined()
    members.push({ session, provider })
  }
  return { anna, annaP, members }
}

describe('scale-out: relays sharing PostgreSQL and Redis', () => {
  it('clients on different nodes edit one document live and converge', async () => {
    const { stacks, store } = await nodes(2)
    const [a, b] = stacks as [Stack, Stack]
    const { anna, annaP, members } = await team(a.url, b.url, ['Bo'])
    const bo = members[0]!.provider
    annaP.doc.getText('t').insert(0, 'from A|')
    await until(() => text(bo) === 'from A|', 10_000, 'B sees A')
    bo.doc.getText('t').insert(text(bo).length, 'from B|')
    await until(() => text(annaP) === 'from A|from B|', 10_000, 'A sees B')
    // Typing at once on both nodes.
    for (let i = 0; i < 10; i++) {
      annaP.doc.getText('t').insert(0, 'a')
      bo.doc.getText('t').insert(text(bo).length, 'b')
    }
    await until(() => text(annaP) === text(bo) && text(bo).length === 34, 15_000, 'converged')
    expectGapFreeUnique(await logOf(store(), anna.docId))
    // Each node served its own client and learned the other's writes through Redis.
    expect(a.relay.metrics.node).toBe('node-0')
    const metrics = await (await fetch(`${a.url.replace('ws', 'http')}/metrics`)).text()
    expect(metrics).toMatch(/valv_relay_connections\{node="node-0"\} \d+/)
  })

  it('writes racing on two nodes get one gap-free, duplicate-free sequence', async () => {
    const { stacks, store } = await nodes(2)
    const [a, b] = stacks as [Stack, Stack]
    const { anna, members } = await team(a.url, b.url, ['Bo'])
    const bo = members[0]!.session
    const onA = await rawOn(a.url, anna.docId)
    const onB = await rawOn(b.url, anna.docId)
    const watcher = await rawOn(a.url, anna.docId)
    const base = (await logOf(store(), anna.docId)).length
    const N = 25
    const sent: Promise<Frame>[] = []
    for (let i = 0; i < N; i++) {
      const ea = await anna.seal('update', new TextEncoder().encode(`a${i}`), 1_000_000 + i)
      const eb = await bo.seal('update', new TextEncoder().encode(`b${i}`), 1_000_000 + i)
      onA.send({ type: 'envelope', docId: anna.docId, ref: 100 + i, envelope: ea })
      onB.send({ type: 'envelope', docId: anna.docId, ref: 100 + i, envelope: eb })
      sent.push(onA.next(answerTo(100 + i), 15_000), onB.next(answerTo(100 + i), 15_000))
    }
    const answers = await Promise.all(sent)
    const seqs = answers.map((f) => (f.type === 'ack' ? f.seq : f.type))
    expect(seqs.every((s) => typeof s === 'number')).toBe(true)
    expect(new Set(seqs).size).toBe(2 * N)
    const log = await logOf(store(), anna.docId)
    expect(log.length).toBe(base + 2 * N)
    expectGapFreeUnique(log)
    // A subscriber of node A got every new seq once, in order, including node B's.
    await until(
      () => watcher.frames.filter((f) => f.type === 'deliver' && f.seq > base).length >= 2 * N,
      10_000,
      'all delivered',
    )
    const got = watcher.frames.flatMap((f) => (f.type === 'deliver' && f.seq > base ? [f.seq] : []))
    expect(got).toEqual(Array.from({ length: 2 * N }, (_, i) => base + i + 1))
  })

  it('with every fan-out message lost, the store still decides: no gap, no duplicate, catch-up in order', async () => {
    // No polling of the store either: only a write can make B catch up here.
    const { stacks, store } = await nodes(2, { partitioned: true, clusterPollMs: 0 })
    const [a, b] = stacks as [Stack, Stack]
    const { anna, members } = await team(a.url, a.url, ['Bo'])
    const bo = members[0]!.session
    const onA = await rawOn(a.url, anna.docId)
    // Node B opens the document now and hears nothing from node A afterwards.
    const onB = await rawOn(b.url, anna.docId)
    const base = (await logOf(store(), anna.docId)).length
    const seal = (s: DocumentSession, t: string, c: number) =>
      s.seal('update', new TextEncoder().encode(t), c)
    for (let i = 0; i < 5; i++) {
      onA.send({
        type: 'envelope',
        docId: anna.docId,
        ref: 10 + i,
        envelope: await seal(anna, `a${i}`, 5000 + i),
      })
      await onA.next(answerTo(10 + i))
    }
    expect(onB.frames.some((f) => f.type === 'deliver' && f.seq > base)).toBe(false)
    // B's head is stale: its append loses in the store, it catches up and appends after A's.
    const late = await seal(bo, 'b0', 5000)
    onB.send({ type: 'envelope', docId: anna.docId, ref: 99, envelope: late })
    const ack = await onB.next(answerTo(99))
    expect(ack).toMatchObject({ type: 'ack', seq: base + 6 })
    // A resend of something A stored, sent to B, is recognised as stored (same seq, no copy).
    const first = (await logOf(store(), anna.docId)).find((e) => e.seq === base + 1)!
    onB.send({ type: 'envelope', docId: anna.docId, ref: 100, envelope: first.bytes })
    expect(await onB.next(answerTo(100))).toMatchObject({ type: 'ack', seq: base + 1 })
    const seen = onB.frames.flatMap((f) => (f.type === 'deliver' && f.seq > base ? [f.seq] : []))
    expect(seen).toEqual([1, 2, 3, 4, 5].map((i) => base + i))
    const log = await logOf(store(), anna.docId)
    expect(log.length).toBe(base + 6)
    expectGapFreeUnique(log)
  })

  it('competing membership entries on two nodes: exactly one wins, everywhere', async () => {
    const { stacks, store } = await nodes(2)
    const [a, b] = stacks as [Stack, Stack]
    const annaId = await Identity.create({ displayName: 'Anna' })
    const anna = await DocumentSession.create(annaId)
    const annaP = await connect(a.url, anna)
    const adaId = await Identity.create({ displayName: 'Ada' })
    await anna.share(PublicCard.parse(adaId.card.toString()), Role.Admin)
    const ada = await DocumentSession.open(adaId, anna.docId)
    const adaP = await connect(b.url, ada)
    await ada.joined()
    await until(() => anna.members().length === ada.members().length, 10_000, 'same chain')
    // Both admins build an entry on the same chain head; their providers hold them back.
    const held: { index: number; entry: Uint8Array }[] = []
    for (const p of [annaP, adaP]) {
      p.appendMembership = (index, entry) => {
        held.push({ index, entry })
        return new Promise(() => undefined)
      }
    }
    void anna.createInviteLink({ role: Role.Viewer })
    void ada.createInviteLink({ role: Role.Viewer })
    await until(() => held.length === 2, 10_000, 'two entries built')
    const [ea, eb] = held as [(typeof held)[0], (typeof held)[0]]
    expect(ea.index).toBe(eb.index)
    const onA = await rawOn(a.url, anna.docId)
    const onB = await rawOn(b.url, anna.docId)
    onA.send({ type: 'membership-append', docId: anna.docId, ref: 7, ...ea })
    onB.send({ type: 'membership-append', docId: anna.docId, ref: 7, ...eb })
    const [ra, rb] = await Promise.all([onA.next(answerTo(7)), onB.next(answerTo(7))])
    const outcomes = [ra, rb].map((f) =>
      f.type === 'ack' ? 'ack' : f.type === 'error' ? f.code : '',
    )
    expect(outcomes.sort()).toEqual(['ack', 'membership-conflict'])
    const winner = ra.type === 'ack' ? ea.entry : eb.entry
    const stored: Uint8Array[] = []
    for await (const m of store().readMembers(anna.docId)) stored.push(m.bytes)
    expect(stored.length).toBe(ea.index + 1)
    expect(Buffer.from(stored[ea.index]!).equals(Buffer.from(winner))).toBe(true)
    // A fresh subscriber on either node is served the winner at that index.
    for (const url of [a.url, b.url]) {
      const fresh = await rawOn(url, anna.docId)
      const entry = fresh.frames.find((f) => f.type === 'membership' && f.index === ea.index)
      expect(
        entry &&
          entry.type === 'membership' &&
          Buffer.from(entry.entry).equals(Buffer.from(winner)),
      ).toBe(true)
    }
  })

  it('a SIGKILLed node loses no acknowledged edit; its clients carry on at another node', async () => {
    const env = await shared()
    const storage = `${env.pg}?schema=${env.schema}`
    const args = (id: string) => [
      '--storage',
      storage,
      '--redis',
      REDIS,
      '--redis-prefix',
      env.prefix,
      '--node-id',
      id,
    ]
    const doomed = await startRelayProcess(args('doomed'))
    const survivor = await startRelayProcess(args('survivor'))
    // Anna's socket goes wherever `target` points: the load balancer in front of the nodes.
    let target = doomed.url
    class Balanced extends WebSocket {
      constructor(_url: string, protocols?: string | string[]) {
        super(target, protocols)
      }
    }
    const annaId = await Identity.create({ displayName: 'Anna' })
    const anna = await DocumentSession.create(annaId)
    const annaP = await connect(doomed.url, anna, { WebSocketPolyfill: Balanced as never })
    const boId = await Identity.create({ displayName: 'Bo' })
    await anna.share(PublicCard.parse(boId.card.toString()), Role.Editor)
    const bo = await DocumentSession.open(boId, anna.docId)
    const boP = await connect(survivor.url, bo)
    await bo.joined()
    // A wire-level writer on the doomed node records exactly which envelopes were acked.
    const writer = await rawOn(doomed.url, anna.docId)
    const acked = new Map<number, Uint8Array>()
    writer.ws.on('message', () => {
      for (const f of writer.frames) {
        if (f.type === 'ack' && f.ref >= 1000) acked.set(f.seq, sentByRef.get(f.ref)!)
      }
    })
    const sentByRef = new Map<number, Uint8Array>()
    let i = 0
    const pump = setInterval(() => {
      void bo.seal('update', new TextEncoder().encode(`w${i}`), 2_000_000 + i).then((env) => {
        const ref = 1000 + i++
        sentByRef.set(ref, env)
        if (writer.closeCode === undefined)
          writer.send({ type: 'envelope', docId: anna.docId, ref, envelope: env })
      })
      annaP.doc.getText('t').insert(text(annaP).length, 'a')
    }, 5)
    onCleanup(() => clearInterval(pump))
    await until(() => acked.size >= 20, 15_000, 'acks before the kill')
    target = survivor.url
    doomed.child.kill('SIGKILL')
    await until(() => !doomed.alive(), 5000, 'killed')
    clearInterval(pump)
    // Anna reconnects through the balancer to the survivor and keeps typing.
    annaP.doc.getText('t').insert(0, 'after|')
    boP.doc.getText('t').insert(0, 'bo|')
    await until(
      () => text(annaP) === text(boP) && text(boP).includes('after|') && text(boP).includes('bo|'),
      20_000,
      'converged after the kill',
    )
    const log = await logOf(env.store(), anna.docId)
    expectGapFreeUnique(log)
    const bySeq = new Map(log.map((e) => [e.seq, e.bytes]))
    expect(acked.size).toBeGreaterThanOrEqual(20)
    for (const [seq, envelope] of acked) {
      expect(Buffer.from(bySeq.get(seq) ?? []).equals(Buffer.from(envelope))).toBe(true)
    }
    expect(await survivor.health()).toBe(200)
    expect(await survivor.metrics()).toMatch(/node="survivor"/)
  }, 90_000)
})
