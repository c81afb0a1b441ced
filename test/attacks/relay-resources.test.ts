/**
 * Resource exhaustion by a stranger or a member: unfinished frames before authentication,
 * many sockets from one address, idle authenticated sockets, and documents whose membership
 * chains the verifier keeps after they left memory. Every bound holds and memory returns to
 * its baseline once the load stops.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { connect as tcp } from 'node:net'
import { createInterface } from 'node:readline'
import { deriveDocId, MembershipState, Role } from '@valv/protocol'
import {
  cleanup,
  onCleanup,
  RawClient,
  startRelayProcess,
  startStack,
  until,
} from '@valv/test-utils/stack'
import { CloseCode } from '@valv/wire'
import { afterEach, describe, expect, it } from 'vitest'
import { entry, key } from '../../packages/protocol/test/chain.js'

afterEach(cleanup)

const metric = (text: string, name: string) =>
  Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN)

/** A raw WebSocket that completes the handshake and starts a frame claiming `claim` bytes. */
async function unfinishedFrame(port: number, claim: number, send: number): Promise<boolean> {
  const socket = tcp(port, '127.0.0.1')
  onCleanup(() => socket.destroy())
  let closed = false
  socket.on('error', () => {})
  socket.on('close', () => {
    closed = true
  })
  socket.write(
    'GET / HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  )
  await new Promise((r) => socket.once('data', r))
  const header = Buffer.alloc(14)
  header[0] = 0x82 // FIN, binary
  header[1] = 0x80 | 127 // masked, 64-bit length
  header.writeBigUInt64BE(BigInt(claim), 2)
  socket.write(header) // mask key: the last 4 bytes (zeros)
  const chunk = Buffer.alloc(1024 * 1024)
  for (let sent = 0; sent < send && !closed; sent += chunk.length) {
    if (!socket.write(chunk)) await new Promise((r) => setTimeout(r, 5))
  }
  await until(() => closed, 5000, 'relay closing the socket').catch(() => {})
  return closed
}

describe('relay: bounded resources', () => {
  it('cuts an unfinished pre-auth frame off at the pre-auth byte limit instead of buffering it', async () => {
    const proc = await startRelayProcess()
    const before = metric(await proc.metrics(), 'process_resident_memory_bytes')
    let peak = before
    let polling = true
    const poll = (async () => {
      while (polling) {
        peak = Math.max(peak, metric(await proc.metrics(), 'process_resident_memory_bytes'))
        await new Promise((r) => setTimeout(r, 20))
      }
    })()
    // Twenty strangers each announce a 30 MiB frame and send 8 MiB of it.
    const closed = await Promise.all(
      Array.from({ length: 20 }, () => unfinishedFrame(proc.port, 30 * 1024 * 1024, 8 << 20)),
    )
    polling = false
    await poll
    expect(closed.every(Boolean)).toBe(true)
    const text = await proc.metrics()
    expect(metric(text, 'valv_relay_closes_total{code="4508"}')).toBe(20)
    expect(before).toBeGreaterThan(0)
    // 160 MiB were sent; the relay held at most a few socket reads of it.
    expect(peak - before).toBeLessThan(48 * 1024 * 1024)
    expect(await proc.health()).toBe(200)
  })

  it('refuses connections over the per-address cap with HTTP 429 and counts them', async () => {
    const s = await startStack({ limits: { maxConnectionsPerIp: 5 } })
    const open = await Promise.all(Array.from({ length: 5 }, () => s.raw()))
    await expect(RawClient.open(s.url)).rejects.toThrow(/429/)
    expect(s.relay.metrics.refused.get('per-ip')).toBe(1)
    open[0]?.ws.close()
    await until(() => s.relay.metrics.connections === 4)
    await until(
      async () =>
        await RawClient.open(s.url).then(
          () => true,
          () => false,
        ),
    )
  })

  it('caps the documents one relay holds in memory, subscriptions to unknown ids included', async () => {
    const s = await startStack({ limits: { maxDocuments: 3 } })
    const c = await (await s.raw()).auth()
    const sub = (docId: string) =>
      c.send({ type: 'subscribe', docId, sinceSeq: 0, snapshotSeq: 0, membershipFrom: 0 })
    for (const id of ['a', 'b', 'c']) {
      sub(id)
      await c.next((f) => f.type === 'synced' && f.docId === id)
    }
    sub('d')
    expect(await c.next((f) => f.type === 'error' && f.docId === 'd')).toMatchObject({
      code: 'limit-exceeded',
    })
    c.send({ type: 'unsubscribe', docId: 'a' })
    await until(() => s.relay.metrics.documents === 2)
    sub('d')
    await c.next((f) => f.type === 'synced' && f.docId === 'd')
  })

  it('closes an authenticated socket that subscribes to nothing after the idle timeout', async () => {
    const s = await startStack({ limits: { idleTimeoutMs: 300 } })
    const idle = await (await s.raw()).auth()
    const busy = await (await s.raw()).auth()
    busy.send({
      type: 'subscribe',
      docId: 'open-doc',
      sinceSeq: 0,
      snapshotSeq: 0,
      membershipFrom: 0,
    })
    expect(await idle.closed(3000)).toBe(CloseCode.Idle)
    await busy.next((f) => f.type === 'synced')
    await new Promise((r) => setTimeout(r, 500))
    expect(busy.closeCode).toBeUndefined()
    busy.send({ type: 'unsubscribe', docId: 'open-doc' })
    expect(await busy.closed(3000)).toBe(CloseCode.Idle)
  })

  it('frees every cached membership chain once its documents leave memory (heap back near baseline)', {
    timeout: 120_000,
  }, async () => {
    const child = spawn('node_modules/.bin/tsx', ['test/attacks/fixtures/relay-gc.ts'], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, NODE_OPTIONS: '--expose-gc' },
    })
    onCleanup(() => child.kill('SIGTERM'))
    const replies: Record<string, number>[] = []
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      replies.push(JSON.parse(l) as Record<string, number>)
    })
    await until(() => replies.length > 0, 20_000, 'relay child')
    const url = `ws://127.0.0.1:${replies[0]?.port}`
    const measure = async () => {
      const n = replies.length
      child.stdin?.write('gc\n')
      await until(() => replies.length > n, 20_000, 'gc reply')
      const m = replies[n] as Record<string, number>
      return (m.heap ?? 0) + (m.buffers ?? 0)
    }
    const baseline = await measure()

    // A member creates 24 documents, each genesis entry carrying a 400 KB payload (9.6 MB; the
    // relay before this fix kept about three times that after its documents were gone).
    const c = await (await RawClient.open(url)).auth()
    for (let i = 0; i < 24; i++) {
      const admin = key()
      const nonce = randomBytes(16)
      const docId = deriveDocId(admin.pub, nonce)
      const genesis = entry(
        new MembershipState(docId),
        admin,
        {
          kind: 'genesis',
          nonce,
          suite: 1,
          writeRole: Role.Editor,
          historyPolicy: 0,
          keyCommitment: new Uint8Array(32).fill(1),
        },
        { payload: randomBytes(400_000) },
      )
      c.send({ type: 'subscribe', docId, sinceSeq: 0, snapshotSeq: 0, membershipFrom: 0 })
      await c.next((f) => f.type === 'synced' && f.docId === docId)
      c.send({ type: 'membership-append', docId, ref: i + 1, index: 0, entry: genesis })
      await c.next((f) => f.type === 'ack' && f.ref === i + 1, 20_000)
      // Any write makes the verifier decode (and cache) the chain.
      c.send({ type: 'envelope', docId, ref: 1000 + i, envelope: new Uint8Array(120) })
      await c.next((f) => f.type === 'error' && f.ref === 1000 + i)
      c.send({ type: 'unsubscribe', docId })
    }
    c.ws.close()
    await new Promise((r) => setTimeout(r, 300))
    const after = await measure()
    // 9.6 MB of chains passed through the relay; none of it is kept once the documents left.
    expect(after - baseline).toBeLessThan(8 * 1024 * 1024)
  })
})
