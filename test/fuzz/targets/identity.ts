/**
 * Identity exports (`valv-identity1.…`): the wrapped bytes a user restores from a backup. The
 * accepted scrypt range reaches 1 GiB by design (the stated bound, checked before any work);
 * mutated headers inside that range but costlier than the sample's N = 2^10, r = 1, p = 1 are
 * clamped back to it so each input stays cheap. The second target re-encrypts mutated
 * plaintexts under the right passphrase to reach the decoder behind the AEAD.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { scrypt } from '@noble/hashes/scrypt.js'
import { CryptoError, Identity } from '@valv/crypto'
import { toBase64Url } from '@valv/protocol'
import fc from 'fast-check'
import type { Target } from '../driver.js'
import type { Fixture } from '../fixtures.js'

const PASS = 'correct horse battery staple'
const PREFIX = 'valv-identity1.'
const HEADER = 20
const NONCE = 24
const CHEAP = { N: 2 ** 10, r: 1, p: 1 }

function clampCost(input: Uint8Array): Uint8Array {
  const [v, logN = 0, r = 0, p = 0] = input
  const inRange = logN >= 10 && logN <= 20 && r >= 1 && r <= 16 && p >= 1 && p <= 4
  if (v !== 1 || !inRange || (logN === 10 && r === 1 && p === 1)) return input
  const out = input.slice()
  out.set([10, 1, 1], 1)
  return out
}

const run = (wrapped: Uint8Array) => Identity.import(PREFIX + toBase64Url(wrapped), PASS)

const rejects = [{ error: CryptoError, codes: ['malformed', 'bad-passphrase'] }]

async function wrappedSample(f: Fixture): Promise<Uint8Array> {
  const text = await f.identity.export(PASS, CHEAP)
  return Uint8Array.from(Buffer.from(text.slice(PREFIX.length), 'base64url'))
}

/** `Identity.import` on mutated wrapped exports. */
export async function identityTarget(f: Fixture): Promise<Target> {
  const sample = await wrappedSample(f)
  return {
    name: 'identity-import',
    rejects,
    samples: [sample],
    generate: fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc
        .uint8Array({ minLength: 40, maxLength: 400 })
        .map((t) => Uint8Array.from([1, 10, 1, 1, ...t])),
    ),
    run: (input) => run(clampCost(input)),
    memoryBound: 64 * 2 ** 20,
    defaultInputs: { count: 2_000, why: 'inputs with a sane header cost one scrypt (N = 2^10)' },
  }
}

/** `Identity.import` on mutated plaintexts, sealed with the right passphrase. */
export async function identityPlaintextTarget(f: Fixture): Promise<Target> {
  const sample = await wrappedSample(f)
  const header = sample.subarray(0, HEADER)
  const nonce = sample.subarray(HEADER, HEADER + NONCE)
  const key = scrypt(new TextEncoder().encode(PASS.normalize('NFKC')), header.subarray(4), {
    ...CHEAP,
    dkLen: 32,
  })
  const aead = () => xchacha20poly1305(key, nonce, header)
  const plaintext = aead().decrypt(sample.subarray(HEADER + NONCE))
  return {
    name: 'identity-plaintext',
    rejects,
    samples: [plaintext],
    generate: fc.uint8Array({ maxLength: 400 }),
    run: (input) => run(Uint8Array.from([...header, ...nonce, ...aead().encrypt(input)])),
    memoryBound: 64 * 2 ** 20,
    defaultInputs: { count: 2_000, why: 'every input costs one scrypt (N = 2^10)' },
  }
}
