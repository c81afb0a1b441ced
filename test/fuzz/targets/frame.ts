/** Wire frames: what the relay decodes from every client and clients from the relay. */
import { decodeFrame, encodeFrame, type Frame, WireError } from '@valv/wire'
import fc from 'fast-check'
import { InvariantBroken, type Target } from '../driver.js'

const docId = fc.stringMatching(/^[A-Za-z0-9._~-]{1,40}$/)
const n = fc.nat()
const bytes = fc.uint8Array({ maxLength: 200 })

/** Every frame type with arbitrary field values. */
export const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ type: fc.constant('auth' as const), version: n, token: fc.string() }),
  fc.record({ type: fc.constant('auth-ok' as const), sessionId: fc.string() }),
  fc.record({
    type: fc.constant('subscribe' as const),
    docId,
    sinceSeq: n,
    snapshotSeq: n,
    membershipFrom: n,
  }),
  fc.record({ type: fc.constant('unsubscribe' as const), docId }),
  fc.record({ type: fc.constant('envelope' as const), docId, ref: n, envelope: bytes }),
  fc.record({ type: fc.constant('deliver' as const), docId, seq: n, envelope: bytes }),
  fc.record({ type: fc.constant('ack' as const), docId, ref: n, seq: n }),
  fc.record({
    type: fc.constant('error' as const),
    docId: fc.string(),
    ref: n,
    code: fc.string(),
    message: fc.string(),
  }),
  fc.record({ type: fc.constant('synced' as const), docId, headSeq: n }),
  fc.record({
    type: fc.constant('membership-append' as const),
    docId,
    ref: n,
    index: n,
    entry: bytes,
  }),
  fc.record({ type: fc.constant('membership' as const), docId, index: n, entry: bytes }),
  fc.record({
    type: fc.constant('snapshot-upload' as const),
    docId,
    ref: n,
    prevSeq: n,
    upToSeq: n,
    snapshot: bytes,
  }),
  fc.record({
    type: fc.constant('snapshot' as const),
    docId,
    upToSeq: n,
    snapshot: bytes,
    confirmed: fc.boolean(),
    confirmation: bytes,
  }),
  fc.record({
    type: fc.constant('snapshot-confirm' as const),
    docId,
    ref: n,
    upToSeq: n,
    confirmation: bytes,
  }),
  fc.record({ type: fc.constant('presence' as const), docId, payload: bytes }),
  fc.record({ type: fc.constant('ping' as const), nonce: n }),
  fc.record({ type: fc.constant('pong' as const), nonce: n }),
)

/** `decodeFrame` over generated frames, random bytes and mutations of one frame of each type. */
export function frameTarget(): Target {
  const samples = fc.sample(frameArb, { seed: 7, numRuns: 200 }).map(encodeFrame)
  return {
    name: 'frame',
    rejects: [
      { error: WireError, codes: ['malformed-frame', 'unknown-frame-type', 'invalid-doc-id'] },
    ],
    samples,
    generate: fc.oneof(frameArb.map(encodeFrame), fc.uint8Array({ maxLength: 300 })),
    run(input) {
      const frame = decodeFrame(input)
      // Byte fields are copies: a decoded frame never pins (or reads past) the socket buffer.
      for (const v of Object.values(frame)) {
        if (v instanceof Uint8Array && v.buffer === input.buffer) {
          throw new InvariantBroken('frame bytes alias the input buffer')
        }
      }
      return frame
    },
    memoryBound: 16 * 2 ** 20,
  }
}
