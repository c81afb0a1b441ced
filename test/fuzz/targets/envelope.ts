/**
 * Envelopes: decoded by the relay and every client, verified publicly by the relay (signature,
 * role, epoch) and opened by clients (verify, decrypt, unpad). No mutation may verify: the only
 * accepted envelopes are the real ones.
 */
import {
  CryptoError,
  decodeEnvelope,
  type EnvelopeKindName,
  equalBytes,
  verifyEnvelopeAsync,
} from '@valv/protocol'
import fc from 'fast-check'
import { InvariantBroken, type Target } from '../driver.js'
import type { Fixture } from '../fixtures.js'

const KINDS: EnvelopeKindName[] = ['update', 'snapshot', 'presence', 'state', 'checkpoint']

/** Header-shaped prefix (version 1) followed by random bytes, so generation reaches the fields. */
const headerish = fc
  .tuple(
    fc.constantFrom(1, 1, 1, 0, 2),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 7 }),
    fc.uint8Array({ maxLength: 200 }),
  )
  .map(([v, s, k, rest]) => Uint8Array.from([v, s, k, ...rest]))

const generate = fc.oneof(headerish, fc.uint8Array({ maxLength: 200 }))

function mustBeReal(f: Fixture, input: Uint8Array): void {
  if (!f.envelopes.some((e) => equalBytes(e, input))) {
    throw new InvariantBroken('a mutated envelope was accepted')
  }
}

/** `decodeEnvelope`: the structure only. */
export function envelopeDecodeTarget(f: Fixture): Target {
  return {
    name: 'envelope-decode',
    rejects: [{ error: CryptoError, codes: ['malformed', 'unsupported-version'] }],
    samples: f.envelopes,
    generate,
    run: (input) => decodeEnvelope(input),
    memoryBound: 16 * 2 ** 20,
  }
}

/** `verifyEnvelopeAsync` against the real chain, as the relay runs it on every write. */
export function envelopeVerifyTarget(f: Fixture): Target {
  return {
    name: 'envelope-verify',
    rejects: [
      {
        error: CryptoError,
        codes: [
          'too-large',
          'malformed',
          'unsupported-version',
          'bad-signature',
          'not-authorised',
          'unknown-epoch',
        ],
      },
    ],
    samples: f.envelopes,
    generate,
    async run(input) {
      await verifyEnvelopeAsync(f.state, input, { maxBytes: 1 << 20 })
      mustBeReal(f, input)
    },
    memoryBound: 16 * 2 ** 20,
  }
}

/** `DocumentSession.open`: a client verifying, decrypting and unpadding what the relay sent. */
export function envelopeOpenTarget(f: Fixture): Target {
  let k = 0
  return {
    name: 'envelope-open',
    rejects: [
      {
        error: CryptoError,
        codes: [
          'malformed',
          'unsupported-version',
          'unsupported-suite',
          'bad-signature',
          'not-authorised',
          'unknown-epoch',
          'decrypt-failed',
        ],
      },
    ],
    samples: f.envelopes,
    generate,
    async run(input) {
      // The expected kind cycles, so a real envelope is also offered as every other kind.
      await f.session.open(KINDS[k++ % KINDS.length] as EnvelopeKindName, input)
      mustBeReal(f, input)
    },
    memoryBound: 16 * 2 ** 20,
  }
}
