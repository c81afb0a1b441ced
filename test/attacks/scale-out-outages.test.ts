/**
 * Scale-out outages (issue 14), real PostgreSQL and real Redis: three relay processes with
 * clients on each converge; a node whose announcement never arrives (it died between storing
 * and publishing) still has its write delivered by the others; a Redis restart loses nothing
 * and fan-out recovers without operator action.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createConnection } from 'node:net'
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
import { afterEach, describe, expect, it } from 'vitest'
import { answerTo, expectGapFreeUnique, logOf, nodes, REDIS, rawOn, shared } from './cluster.js'

afterEach(cleanup)

const text = (p: WebsocketProvider) => p.doc.getText('t').toString()

/** Anna (admin) on `urls[0]`, and one editor per further URL, each connected there. */
async function editors(urls: string[]) {
  const anna = await DocumentSession.create(await Identity.create({ displayName: 'Anna' }))
  const providers = [await connect(urls[0]!, anna)]
  for (const [i, url] of urls.slice(1).entries()) {
    const id = await Identity.create({ displayName: `Editor ${i}` })
    await anna.share(PublicCard.parse(id.card.toString()), Role.Editor)
    const session = await DocumentSession.open(id, anna.docId)
    providers.push(await connect(url, session))
    await session.joined()
  }
  return { anna, providers }
}

/**
 * Our own Redis on `port` (never the machine's shared one), without persistence, which the
 * test stops and starts again. One cleanup, registered first, so it runs after the relays'.
 */
async function ownRedis(port: number) {
  let child: ChildProcess | undefined
  let exited = true
  onCleanup(() => child?.kill('SIGKILL'))
  const up = () =>
    new Promise<boolean>((resolve) => {
      const s = createConnection(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
  const redis = {
    async start() {
      const c = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      )
      child = c
      exited = false
      c.once('exit', () => {
        exited = true
      })
      await until(up, 10_000, `redis on ${port}`)
    },
    async stop() {
      child?.kill('SIGKILL')
      await until(() => exited, 5000, 'redis stopped')
    },
  }
  await redis.start()
  return redis
}

/**
 * Two relay processes on one store, each on its own bus prefix: nothing one publishes reaches
 * the other (as when a node dies between committing and publishing), so only the quiet-room
 * poll (every second here) can carry a write across.
 */
function unannouncedPair(env: Awaited<ReturnType<typeof shared>>) {
  const args = (id: string) => [
    '--storage',
    `${env.pg}?schema=${env.schema}`,
    '--redis',
    REDIS,
    '--redis-prefix',
    `${env.prefix}${id}:`,
    '--node-id',
    id,
    '--cluster-poll-ms',
    '1000',
  ]
  return Promise.all([startRelayProcess(args('a')), startRelayProcess(args('b'))])
}

describe('scale-out outages', () => {
  it('three relay processes, clients on each, typing at once: all converge on one log', async () => {
    const env = await shared()
    const args = (id: string) => [
      '--storage',
      `${env.pg}?schema=${env.schema}`,
      '--redis',
      REDIS,
      '--redis-prefix',
      env.prefix,
      '--node-id',
      id,
    ]
    const relays = await Promise.all(['n1', 'n2', 'n3'].map((id) => startRelayProcess(args(id))))
    const { anna, providers } = await editors([...relays, relays[0]!].map((r) => r.url))
    const ROUNDS = 15
    for (let i = 0; i < ROUNDS; i++) {
      for (const [k, p] of providers.entries()) {
        const t = p.doc.getText('t')
        t.insert(i % 2 === 0 ? 0 : t.length, String.fromCharCode(97 + k))
      }
      await new Promise((r) => setTimeout(r, 5))
    }
    const total = ROUNDS * providers.length
    await until(
      () => providers.every((p) => text(p).length === total && text(p) === text(providers[0]!)),
      30_000,
      'converged on three nodes',
    )
    for (let k = 0; k < providers.length; k++) {
      expect(text(providers[0]!).split(String.fromCharCode(97 + k)).length - 1).toBe(ROUNDS)
    }
    expectGapFreeUnique(await logOf(env.store(), anna.docId))
    for (const r of relays) expect(await r.health()).toBe(200)
  }, 120_000)

  it('a write whose announcement never comes (its node died before publishing) still reaches the others', async () => {
    const env = await shared()
    const [a, b] = await unannouncedPair(env) // A is SIGKILLed below for good measure
    const anna = await DocumentSession.create(await Identity.create({ displayName: 'Anna' }))
    const p = await connect(a.url, anna)
    await p.destroy()
    const watcher = await rawOn(b.url, anna.docId)
    const writer = await rawOn(a.url, anna.docId)
    const envelope = await anna.seal('update', new TextEncoder().encode('late'), 1_000_000)
    writer.send({ type: 'envelope', docId: anna.docId, ref: 1, envelope })
    const ack = await writer.next(answerTo(1))
    expect(ack).toMatchObject({ type: 'ack' })
    const seq = (ack as { seq: number }).seq
    a.child.kill('SIGKILL')
    await until(() => !a.alive(), 5000, 'killed')
    // No other write happens: B finds the entry by checking the store when its bus is quiet.
    const got = await watcher.next((f) => f.type === 'deliver' && f.seq === seq, 20_000)
    expect(got.type === 'deliver' && Buffer.from(got.envelope).equals(Buffer.from(envelope))).toBe(
      true,
    )
    expect(watcher.frames.filter((f) => f.type === 'deliver' && f.seq === seq)).toHaveLength(1)
  }, 60_000)

  it('a membership entry whose announcement never comes still reaches subscribers on the other node', async () => {
    const env = await shared()
    const [a, b] = await unannouncedPair(env)
    const anna = await DocumentSession.create(await Identity.create({ displayName: 'Anna' }))
    const p = await connect(a.url, anna)
    const watcher = await rawOn(b.url, anna.docId)
    const bo = await Identity.create({ displayName: 'Bo' })
    await anna.share(PublicCard.parse(bo.card.toString()), Role.Editor)
    const index = anna.membershipLength() - 1
    // Only the quiet-room poll can tell B: its store check must see the new entry.
    const got = await watcher.next((f) => f.type === 'membership' && f.index === index, 20_000)
    expect(got.type === 'membership' && got.index).toBe(index)
    await p.destroy()
  }, 60_000)

  it('Redis restarted mid-run: no acknowledged edit lost, fan-out recovers by itself', async () => {
    const PORT = 6391
    const redis = await ownRedis(PORT)
    const { stacks, store } = await nodes(2, { redis: `redis://127.0.0.1:${PORT}` })
    const [a, b] = stacks as [Stack, Stack]
    const { anna, providers } = await editors([a.url, b.url])
    const [pa, pb] = providers as [WebsocketProvider, WebsocketProvider]
    pa.doc.getText('t').insert(0, 'A0|')
    await until(() => text(pb) === 'A0|', 10_000, 'live before the outage')
    await redis.stop()
    // Writes go on during the outage (acks need only PostgreSQL).
    pa.doc.getText('t').insert(text(pa).length, 'A1|')
    pb.doc.getText('t').insert(0, 'B1|')
    await until(() => pa.unsyncedChanges === 0 && pb.unsyncedChanges === 0, 15_000, 'acked')
    await redis.start()
    // Each node reads the store on reconnect: both sides get what they missed.
    await until(
      () => text(pa) === text(pb) && text(pa).includes('A1|') && text(pa).includes('B1|'),
      20_000,
      'caught up after Redis returned',
    )
    // And live fan-out works again.
    pb.doc.getText('t').insert(0, 'B2|')
    pa.doc.getText('t').insert(text(pa).length, 'A2|')
    await until(
      () => text(pa) === text(pb) && text(pa).includes('A2|') && text(pb).includes('B2|'),
      20_000,
      'live after Redis returned',
    )
    expect(text(pa).length).toBe(15)
    expectGapFreeUnique(await logOf(store(), anna.docId))
  }, 90_000)
})
