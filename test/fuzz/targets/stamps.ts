/**
 * Members' signed stamps the relay checks before it acts: snapshot confirmations, blob grants
 * and erase requests (`version ‖ author ‖ numbers ‖ signature`, one decoder in
 * `@valv/protocol`). Only the real stamps may verify; everything else is a typed refusal.
 */
import { signEraseRequest } from '@valv/crypto'
import {
  CryptoError,
  equalBytes,
  verifyBlobGrant,
  verifyConfirmation,
  verifyEraseRequest,
} from '@valv/protocol'
import fc from 'fast-check'
import { InvariantBroken, type Target } from '../driver.js'
import type { Fixture } from '../fixtures.js'

const CODES = ['malformed', 'unsupported-version', 'not-authorised', 'bad-signature', 'replay']
const SESSION = 's-fuzz'
const GRANT = { op: 'upload', blobId: 'fuzz-blob', size: 4096, sessionId: SESSION } as const
const SNAPSHOT_ID = new Uint8Array(32).fill(9)

/** The three verifiers in turn over mutated stamps made by the fixture's admin. */
export async function stampTarget(f: Fixture): Promise<Target> {
  const samples = [
    await f.session.confirmSnapshot(SNAPSHOT_ID),
    await f.session.signBlobGrant(GRANT),
    await signEraseRequest(f.session, { sessionId: SESSION, chainLength: f.state.length }),
  ]
  const verify = [
    () => (input: Uint8Array) => verifyConfirmation(f.state, input, SNAPSHOT_ID),
    () => (input: Uint8Array) => verifyBlobGrant(f.state, input, GRANT),
    () => (input: Uint8Array) => verifyEraseRequest(f.state, input, SESSION),
  ]
  let k = 0
  return {
    name: 'member-stamps',
    rejects: [{ error: CryptoError, codes: CODES }],
    samples,
    generate: fc.oneof(
      fc.uint8Array({ maxLength: 120 }),
      fc
        .tuple(fc.constantFrom(0, 1, 2), fc.uint8Array({ minLength: 60, maxLength: 80 }))
        .map(([author, rest]) => Uint8Array.from([1, author, ...rest])),
    ),
    async run(input) {
      const which = k++ % 3
      await (verify[which] as () => (i: Uint8Array) => Promise<unknown>)()(input)
      if (!equalBytes(input, samples[which] as Uint8Array)) {
        throw new InvariantBroken('a stamp the admin did not make verified')
      }
    },
    memoryBound: 16 * 2 ** 20,
  }
}
