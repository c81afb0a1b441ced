import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js'

export { concatBytes } from '@noble/hashes/utils.js'
export { equalBytes, utf8 } from '@valv/protocol'

/**
 * `n` bytes from the platform's cryptographically secure generator (`crypto.getRandomValues`,
 * present in browsers and Node 20). Every key, nonce, salt and stream prefix comes from here.
 */
export function randomBytes(n: number): Uint8Array {
  return nobleRandomBytes(n)
}
