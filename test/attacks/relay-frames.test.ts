/**
 * A stranger (the CLI lets anyone authenticate) sends every frame type with boundary integers,
 * empty and truncated bodies and unknown tags. Nothing may take the relay process down: each
 * bad frame is a typed error frame, a counter in /metrics and a log line, and the relay keeps
 * serving real clients.
 */
import { DocumentSession, Identity } from '@valv/crypto'
import { cleanup, connect, RawClient, startRelayProcess, until } from '@valv/test-utils/stack'
import { FrameType, RejectCode } from '@valv/wire'
import { afterEach, describe, expect, it } from 'vitest'

afterEach(cleanup)

/** lib0 varuint of any non-negative integer, written by hand (the codec refuses unsafe ones). */
function varuint(n: bigint): number[] {
  const out: number[] = []
  while (n >= 128n) {
    out.push(Number(n & 127n) | 128)
    n >>= 7n
  }
  out.push(Number(n))
  return out
}

/** −1 as a 64-bit varint (what a protobuf-style client would send). */
const MINUS_ONE = [255, 255, 255, 255, 255, 255, 255, 255, 255, 1]

const BOUNDARIES: Record<string, number[]> = {
  '0': varuint(0n),
  '-1': MINUS_ONE,
  '2^32': varuint(2n ** 32n),
  '2^53-1': varuint(2n ** 53n - 1n),
  '2^64-1': varuint(2n ** 64n - 1n),
}

type Field = 'doc' | 'uint' | 'str' | 'bytes'

/** Field layout of every frame tag (docs/protocol.md, `@valv/wire`). */
const LAYOUT: Record<number, Field[]> = {
  [FrameType.Auth]: ['uint', 'str'],
  [FrameType.AuthOk]: ['str'],
  [FrameType.Subscribe]: ['doc', 'uint', 'uint', 'uint'],
  [FrameType.Unsubscribe]: ['doc'],
  [FrameType.Envelope]: ['doc', 'uint', 'bytes'],
  [FrameType.Deliver]: ['doc', 'uint', 'bytes'],
  [FrameType.Ack]: ['doc', 'uint', 'uint'],
  [FrameType.Error]: ['str', 'uint', 'str', 'str'],
  [FrameType.Synced]: ['doc', 'uint'],
  [FrameType.MembershipAppend]: ['doc', 'uint', 'uint', 'bytes'],
  [FrameType.Membership]: ['doc', 'uint', 'bytes'],
  [FrameType.SnapshotUpload]: ['doc', 'uint', 'uint', 'uint', 'bytes'],
  [FrameType.Snapshot]: ['doc', 'uint', 'bytes'],
  [FrameType.Presence]: ['doc', 'bytes'],
  [FrameType.Ping]: ['uint'],
  [FrameType.Pong]: ['uint'],
}

const str = (s: string) => {
  const b = new TextEncoder().encode(s)
  return [...varuint(BigInt(b.length)), ...b]
}

/**
 * Every frame of `tag` with one integer (a uint field or a length prefix) set to a boundary
 * value and the rest plausible.
 */
function boundaryFrames(tag: number, docId: string): Uint8Array[] {
  const layout = LAYOUT[tag] as Field[]
  const out: Uint8Array[] = []
  // Subscribes go to fresh documents each, so every one of them reaches the catch-up path.
  let n = 0
  const doc = () => str(tag === FrameType.Subscribe ? `${docId}-${n++}` : docId)
  const plain = (f: Field) =>
    f === 'doc' ? doc() : f === 'str' ? str('x') : f === 'bytes' ? [3, 1, 2, 3] : [1]
  layout.forEach((field, at) => {
    if (field === 'doc') return
    for (const value of Object.values(BOUNDARIES)) {
      // For strings and bytes the boundary is the length prefix, with whatever follows.
      const hostile = field === 'uint' ? value : [...value, 1, 2, 3]
      const body = layout.flatMap((f, i) => (i === at ? hostile : plain(f)))
      out.push(new Uint8Array([...varuint(BigInt(tag)), ...body]))
    }
  })
  const whole = new Uint8Array([...varuint(BigInt(tag)), ...layout.flatMap(plain)])
  out.push(new Uint8Array(varuint(BigInt(tag)))) // empty body
  for (let cut = 1; cut < whole.length; cut += 3) out.push(whole.subarray(0, cut)) // truncated
  return out
}

async function authenticated(url: string): Promise<RawClient> {
  return (await RawClient.open(url)).auth()
}

const codes = new Set<string>(Object.values(RejectCode))

describe('relay: hostile frames against the CLI process', () => {
  it('subscribe with sinceSeq = 2^53 − 1 gets synced, not a dead relay', async () => {
    const proc = await startRelayProcess()
    const attacker = await authenticated(proc.url)
    attacker.sendBytes(
      new Uint8Array([
        FrameType.Subscribe,
        ...str('victim'),
        ...varuint(2n ** 53n - 1n),
        ...varuint(0n),
        ...varuint(0n),
      ]),
    )
    expect(await attacker.next((f) => f.type === 'synced')).toMatchObject({
      docId: 'victim',
      headSeq: 0,
    })
    expect(proc.alive()).toBe(true)
    expect(await proc.health()).toBe(200)
  })

  it('every frame type with boundary integers, empty and truncated bodies, unknown tags: typed errors, process up, still serving', async () => {
    const proc = await startRelayProcess()
    const attacker = await authenticated(proc.url)
    attacker.send({
      type: 'subscribe',
      docId: 'victim',
      sinceSeq: 0,
      snapshotSeq: 0,
      membershipFrom: 0,
    })
    await attacker.next((f) => f.type === 'synced')
    const frames = Object.keys(LAYOUT).flatMap((t) => boundaryFrames(Number(t), 'victim'))
    for (const tag of [16, 127, 128, 2 ** 32, 2 ** 53 - 1]) {
      frames.push(new Uint8Array([...varuint(BigInt(tag)), 1, 2, 3]))
    }
    frames.push(new Uint8Array([...MINUS_ONE, 0]), new Uint8Array(0))
    for (const f of frames) attacker.sendBytes(f)
    attacker.send({ type: 'ping', nonce: 424242 })
    await attacker.next((f) => f.type === 'pong' && f.nonce === 424242, 20_000)

    expect(frames.length).toBeGreaterThan(200)
    expect(attacker.closeCode).toBeUndefined()
    expect(proc.alive()).toBe(true)
    expect(await proc.health()).toBe(200)
    const errors = attacker.frames.filter((f) => f.type === 'error')
    expect(errors.length).toBeGreaterThan(150)
    for (const e of errors) expect(codes.has(e.type === 'error' ? e.code : '')).toBe(true)
    expect(errors.some((e) => e.type === 'error' && e.code === RejectCode.Internal)).toBe(false)
    const metrics = await proc.metrics()
    const malformed = Number(
      /valv_relay_rejections_total\{code="malformed"\} (\d+)/.exec(metrics)?.[1],
    )
    expect(malformed).toBeGreaterThan(100)
    expect(proc.lines.filter((l) => l.event === 'reject').length).toBeGreaterThan(150)

    // A real client on another document is served as before.
    const anna = await Identity.create({ displayName: 'Anna' })
    const doc = await DocumentSession.create(anna)
    const p = await connect(proc.url, doc)
    p.doc.getText('t').insert(0, 'still here')
    const reader = await authenticated(proc.url)
    await until(async () => {
      reader.send({
        type: 'subscribe',
        docId: doc.docId,
        sinceSeq: 0,
        snapshotSeq: 0,
        membershipFrom: 0,
      })
      const synced = await reader.next((f) => f.type === 'synced' && f.docId === doc.docId)
      reader.send({ type: 'unsubscribe', docId: doc.docId })
      reader.frames.length = 0
      return synced.type === 'synced' && synced.headSeq >= 1
    })
    expect(proc.alive()).toBe(true)
  })
})
