import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js'
import { CryptoError } from '@valv/protocol'

export { concatBytes } from '@noble/hashes/utils.js'
export { equalBytes, utf8 } from '@valv/protocol'

/**
 * `n` bytes from the platform's cryptographically secure generator (`crypto.getRandomValues`,
 * present in browsers and Node 20), any length; a length that is not a safe integer ≥ 0 is
 * `malformed`. Every key, nonce, salt and stream prefix comes from here.
 */
export function randomBytes(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new CryptoError('malformed', 'bad random length')
  if (n <= 65536) return nobleRandomBytes(n)
  // getRandomValues fills at most 64 KiB per call.
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i += 65536) out.set(nobleRandomBytes(Math.min(65536, n - i)), i)
  return out
}
