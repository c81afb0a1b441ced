/**
 * Encrypted files: `decryptBlobStream` fed in pieces of seeded sizes, and `decryptBlob`. Chunks
 * are authenticated and bound to their position, so only the real ciphertexts may decrypt.
 */
import { CryptoError, decryptBlob, decryptBlobStream, encryptBlob } from '@valv/crypto'
import { equalBytes } from '@valv/protocol'
import fc from 'fast-check'
import { InvariantBroken, type Target } from '../driver.js'
import { rng } from '../mutate.js'

const CODES = ['malformed', 'unsupported-version', 'decrypt-failed', 'truncated', 'too-large']

async function decryptStream(key: Uint8Array, input: Uint8Array): Promise<Uint8Array> {
  const r = rng(input.length, 'pieces')
  const t = decryptBlobStream(key)
  const writer = t.writable.getWriter()
  const read = new Response(t.readable).arrayBuffer()
  read.catch(() => {})
  try {
    for (let at = 0; at < input.length; ) {
      const n = 1 + r.int(90)
      await writer.write(input.slice(at, at + n))
      at += n
    }
    await writer.close()
  } catch (err) {
    await read.catch(() => {})
    throw err
  }
  return new Uint8Array(await read)
}

/** Both blob decryptors over mutated small-chunk ciphertexts. */
export function blobTarget(): Target {
  const key = new Uint8Array(32).fill(5)
  const plains = [0, 40, 64, 200].map((n) => new Uint8Array(n).map((_, i) => i * 7))
  const blobs = plains.map((p) => encryptBlob(p, { key, chunkSize: 64 }).ciphertext)
  const check = (input: Uint8Array, out: Uint8Array) => {
    const i = blobs.findIndex((b) => equalBytes(b, input))
    if (i < 0 || !equalBytes(out, plains[i] as Uint8Array)) {
      throw new InvariantBroken('a changed ciphertext decrypted')
    }
  }
  let k = 0
  return {
    name: 'blob-stream',
    rejects: [{ error: CryptoError, codes: CODES }],
    samples: blobs,
    generate: fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc
        .uint8Array({ minLength: 16, maxLength: 300 })
        .map((t) => Uint8Array.from([1, 0, 0, 0, 64, ...t])),
    ),
    async run(input) {
      const out = k++ % 2 === 0 ? await decryptStream(key, input) : decryptBlob(key, input)
      check(input, out)
    },
    memoryBound: 64 * 2 ** 20,
  }
}
