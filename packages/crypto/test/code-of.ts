import { expect } from 'vitest'
import { CryptoError } from '../src/index.js'

/** The `CryptoError` code `p` (a promise, or a function run now) fails with; throws if it succeeds. */
export async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (err) {
    expect(err).toBeInstanceOf(CryptoError)
    return (err as CryptoError).code
  }
  throw new Error('did not fail')
}
