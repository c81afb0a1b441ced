/**
 * Decoders of plaintext a member decrypted: a compaction snapshot's body, per-author heads and
 * presence messages. A malicious member can seal any bytes, so these see attacker input after
 * a successful decryption.
 */
import {
  CoreError,
  decodeSnapshotBody,
  encodeSnapshotBody,
  type Heads,
  readHeads,
  writeHeads,
} from '@valv/core'
import { decodePresence, encodePresence, WebsocketProviderError } from '@valv/provider-websocket'
import fc from 'fast-check'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { Target } from '../driver.js'

const heads: fc.Arbitrary<Heads> = fc
  .array(fc.tuple(fc.stringMatching(/^[0-9a-f]{0,64}$/), fc.nat()), { maxLength: 6 })
  .map((pairs) => new Map(pairs))

const snapshotArb = fc
  .record({
    gc: fc.boolean(),
    counters: heads,
    state: fc.uint8Array({ maxLength: 120 }),
  })
  .map(encodeSnapshotBody)

const headsArb = heads.map((h) => {
  const enc = encoding.createEncoder()
  writeHeads(enc, h)
  return encoding.toUint8Array(enc)
})

const base = { session: fc.string({ maxLength: 24 }), counter: fc.nat(), sentAt: fc.nat() }
const presenceArb = fc
  .oneof(
    fc.record({
      ...base,
      type: fc.constant('awareness' as const),
      update: fc.uint8Array({ maxLength: 80 }),
    }),
    fc.record({ ...base, type: fc.constant('heads' as const), heads, lastSeq: fc.nat() }),
    fc.record({ ...base, type: fc.constant('bye' as const) }),
  )
  .map(encodePresence)

const samplesOf = (arb: fc.Arbitrary<Uint8Array>) => fc.sample(arb, { seed: 11, numRuns: 60 })

/** `decodeSnapshotBody`. */
export function snapshotTarget(): Target {
  return {
    name: 'snapshot-body',
    rejects: [{ error: CoreError, codes: ['malformed'] }],
    samples: samplesOf(snapshotArb),
    generate: fc.oneof(snapshotArb, fc.uint8Array({ maxLength: 200 })),
    run: (input) => decodeSnapshotBody(input),
    memoryBound: 16 * 2 ** 20,
  }
}

/** `readHeads` (inside snapshots, checkpoints and presence). */
export function headsTarget(): Target {
  return {
    name: 'heads',
    rejects: [{ error: CoreError, codes: ['malformed'] }],
    samples: samplesOf(headsArb),
    generate: fc.oneof(headsArb, fc.uint8Array({ maxLength: 200 })),
    run: (input) => readHeads(decoding.createDecoder(input)),
    memoryBound: 16 * 2 ** 20,
  }
}

/** `decodePresence`. */
export function presenceTarget(): Target {
  return {
    name: 'presence',
    rejects: [{ error: WebsocketProviderError, codes: ['malformed'] }],
    samples: samplesOf(presenceArb),
    generate: fc.oneof(presenceArb, fc.uint8Array({ maxLength: 200 })),
    run: (input) => decodePresence(input),
    memoryBound: 16 * 2 ** 20,
  }
}
