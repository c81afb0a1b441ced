/** fast-check arbitraries of every wire frame, shared by the codec tests and the fuzzer. */
import fc from 'fast-check'
import type { Frame } from '../src/frames.js'

export const docId = fc.stringMatching(/^[A-Za-z0-9._~-]{1,40}$/)
export const n = fc.nat({ max: 2 ** 31 })
export const blobId = fc.stringMatching(/^[A-Za-z0-9_-]{1,100}$/)
export const bytes = fc.uint8Array({ maxLength: 64 })
/** Every frame type with arbitrary (encodable) field values. */
export const frame: fc.Arbitrary<Frame> = fc.oneof(
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
  fc.record({
    type: fc.constant('blob-begin' as const),
    docId,
    ref: n,
    blobId,
    size: n,
    grant: bytes,
  }),
  fc.record({
    type: fc.constant('blob-chunk' as const),
    docId,
    ref: n,
    blobId,
    offset: n,
    data: bytes,
  }),
  fc.record({ type: fc.constant('blob-commit' as const), docId, ref: n, blobId, size: n }),
  fc.record({
    type: fc.constant('blob-fetch' as const),
    docId,
    ref: n,
    blobId,
    offset: n,
    grant: bytes,
  }),
  fc.record({ type: fc.constant('blob-data' as const), docId, ref: n, offset: n, data: bytes }),
  fc.record({ type: fc.constant('blob-delete' as const), docId, ref: n, blobId, grant: bytes }),
  fc.record({ type: fc.constant('erase' as const), docId, ref: n, request: bytes }),
)
