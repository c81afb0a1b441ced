/**
 * Process-level fuzzing: the real `valv-relay` CLI takes a few thousand mutated frames from
 * several sockets (reconnecting whenever the relay closes one), a quarter of them valid frames
 * whose numeric fields sit at 0, 2^32, 2^53 − 1, 2^53 or 2^64 − 1, while an honest writer keeps
 * editing. The process must stay up and healthy, and every honest edit must reach a second
 * honest client.
 */
import { DocumentSession, Identity, Role } from '@valv/crypto'
import { cleanup, connect, RawClient, startRelayProcess, until } from '@valv/test-utils/stack'
import { encodeFrame, type Frame } from '@valv/wire'
import { afterEach, describe, expect, it } from 'vitest'
import { mutate, rng } from './mutate.js'

afterEach(cleanup)

const FUZZERS = 4
const FRAMES_EACH = 800
const EDITS = 60

/** Valid frames of every client → relay type, aimed at the honest document and the fuzzer's own. */
async function seedFrames(honestDoc: string): Promise<Uint8Array[]> {
  const mallory = await Identity.create({ displayName: 'Mallory' })
  const own = await DocumentSession.create(mallory)
  const chain: Uint8Array[] = []
  await own.attach({
    async appendMembership(_i: number, e: Uint8Array) {
      chain.push(e)
    },
  })
  const text = new TextEncoder().encode('x')
  const envelope = await own.seal('update', text, 1)
  const snapshot = await own.seal('snapshot', text, 0, {
    upToSeq: 2,
    prevSeq: 0,
    prev: new Uint8Array(32),
  })
  const presence = await own.seal('presence', text, 3)
  const frames: Frame[] = []
  for (const docId of [honestDoc, own.docId]) {
    frames.push(
      { type: 'subscribe', docId, sinceSeq: 0, snapshotSeq: 0, membershipFrom: 0 },
      { type: 'envelope', docId, ref: 1, envelope },
      { type: 'membership-append', docId, ref: 2, index: 0, entry: chain[0] as Uint8Array },
      { type: 'snapshot-upload', docId, ref: 3, prevSeq: 0, upToSeq: 1, snapshot },
      { type: 'presence', docId, payload: presence },
      { type: 'unsubscribe', docId },
    )
  }
  frames.push({ type: 'ping', nonce: 1 }, { type: 'auth', version: 1, token: 'x' })
  return frames.map(encodeFrame)
}

// What `encodeFrame` still writes; integers past 2^53 − 1 are hand-encoded against the CLI by
// test/attacks/relay-frames.test.ts (the codec refuses to write them).
const BOUNDARY_NUMBERS = [0, 1, 2 ** 32, 2 ** 53 - 1]

/** A valid frame of a random type with every numeric field at a boundary value. */
function boundaryFrame(r: ReturnType<typeof rng>, docId: string): Uint8Array {
  const n = () => BOUNDARY_NUMBERS[r.int(BOUNDARY_NUMBERS.length)] as number
  const bytes = new Uint8Array(r.int(200))
  const frames: Frame[] = [
    { type: 'subscribe', docId, sinceSeq: n(), snapshotSeq: n(), membershipFrom: n() },
    { type: 'envelope', docId, ref: n(), envelope: bytes },
    { type: 'membership-append', docId, ref: n(), index: n(), entry: bytes },
    { type: 'snapshot-upload', docId, ref: n(), prevSeq: n(), upToSeq: n(), snapshot: bytes },
    { type: 'ping', nonce: n() },
    { type: 'pong', nonce: n() },
    { type: 'auth', version: n(), token: '' },
  ]
  return encodeFrame(frames[r.int(frames.length)] as Frame)
}

async function fuzzer(
  url: string,
  seed: number,
  samples: Uint8Array[],
  frames: number,
  docId: string,
  alive: () => boolean,
) {
  const r = rng(seed, 'relay-process')
  let sent = 0
  let sockets = 0
  while (sent < frames && alive()) {
    let c: RawClient
    try {
      c = await RawClient.open(url)
    } catch {
      continue // refused while the relay is busy or gone; the loop condition decides
    }
    // A relay that drops a garbage-sending socket abruptly is fine; it must not crash the test.
    c.ws.on('error', () => {})
    sockets++
    c.send({ type: 'auth', version: 1, token: `fuzz-${seed}` })
    while (sent < frames && c.closeCode === undefined && c.ws.readyState === c.ws.OPEN) {
      c.sendBytes(r.int(4) === 0 ? boundaryFrame(r, docId) : mutate(r, samples))
      sent++
      if (sent % 20 === 0) await new Promise((res) => setTimeout(res, 5))
    }
    c.ws.terminate()
  }
  return { sent, sockets }
}

describe('relay CLI under mutated frames', () => {
  it('stays up, stays healthy and keeps serving honest clients', async () => {
    const relay = await startRelayProcess()
    let stderr = ''
    relay.child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000)
    })
    const anna = await Identity.create({ displayName: 'Anna' })
    const doc = await DocumentSession.create(anna)
    const writer = await connect(relay.url, doc)
    const link = await doc.createInviteLink({ role: Role.Viewer })
    const bob = await Identity.create({ displayName: 'Bob' })
    const reader = await connect(relay.url, await DocumentSession.join(bob, link))
    const samples = await seedFrames(doc.docId)

    const attacks = Array.from({ length: FUZZERS }, (_, i) =>
      fuzzer(relay.url, i + 1, samples, FRAMES_EACH, doc.docId, relay.alive),
    )
    const text = writer.doc.getText('t')
    const health: number[] = []
    for (let i = 0; i < EDITS; i++) {
      text.insert(text.length, `${i};`)
      if (i % 10 === 0) health.push(await relay.health())
      await new Promise((res) => setTimeout(res, 15))
    }
    const results = await Promise.all(attacks)
    expect(relay.alive(), `relay died: ${stderr}`).toBe(true)
    const expected = Array.from({ length: EDITS }, (_, i) => `${i};`).join('')
    await until(() => reader.doc.getText('t').toString() === expected, 20_000, 'honest edits')

    const sent = results.reduce((n, r) => n + r.sent, 0)
    const metrics = await relay.metrics()
    const counted = metrics.split('\n').filter((l) => /_(rejections|closes)_total\{/.test(l))
    console.log(
      `relay-process fuzz: ${sent} mutated frames over ${results.reduce((n, r) => n + r.sockets, 0)} sockets\n  ${counted.join('\n  ')}`,
    )
    expect(sent).toBe(FUZZERS * FRAMES_EACH)
    expect(relay.alive()).toBe(true)
    expect(health.every((h) => h === 200)).toBe(true)
    expect(await relay.health()).toBe(200)
    expect(text.toString()).toBe(expected)
    // The garbage was seen and refused, not silently dropped by something in front of the relay.
    expect(metrics).toMatch(/valv_relay_(rejections|closes)_total\{code="[^"]+"\} [1-9]/)
  }, 120_000)
})
