import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { TickBatch } from '../src/tick-batch.js'

let server: Server | undefined
const sockets: Socket[] = []

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  await new Promise((r) => (server ? server.close(r) : r(undefined)))
  server = undefined
})

/** A loopback pair: the writing end and everything its peer receives. */
async function pair(): Promise<{ out: Socket; received: () => Buffer }> {
  const chunks: Buffer[] = []
  server = createServer((peer) => {
    sockets.push(peer)
    peer.on('data', (c: Buffer) => chunks.push(c))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  const out = connect({ host: '127.0.0.1', port })
  sockets.push(out)
  await once(out, 'connect')
  return { out, received: () => Buffer.concat(chunks) }
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10))
}

describe('TickBatch', () => {
  it('holds a turn of writes and writes them out, in order, at the end of the turn', async () => {
    const { out, received } = await pair()
    const batch = new TickBatch()
    for (let i = 0; i < 50; i++) {
      batch.hold(out)
      out.write(Buffer.from([i]))
      batch.written(out)
    }
    // Corked once (not once per write), nothing written yet.
    expect(out.writableCorked).toBe(1)
    expect(out.writableLength).toBe(50)
    await Promise.resolve()
    await new Promise((r) => process.nextTick(r))
    expect(out.writableCorked).toBe(0)
    await until(() => received().length === 50)
    expect([...received()]).toEqual(Array.from({ length: 50 }, (_, i) => i))
  })

  it('writes out early once 64 KiB are held, so a large backlog is not kept in memory', async () => {
    const { out, received } = await pair()
    const batch = new TickBatch()
    const frame = Buffer.alloc(16 * 1024, 7)
    for (let i = 0; i < 4; i++) {
      batch.hold(out)
      out.write(frame)
      batch.written(out)
    }
    expect(out.writableCorked).toBe(0)
    batch.hold(out)
    out.write(Buffer.from([1]))
    expect(out.writableCorked).toBe(1)
    await new Promise((r) => setImmediate(r))
    expect(out.writableCorked).toBe(0)
    await until(() => received().length === 4 * 16 * 1024 + 1)
    expect(received().length).toBe(4 * 16 * 1024 + 1)
  })
})
