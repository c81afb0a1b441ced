import { CryptoError, type CryptoErrorCode } from '@valv/protocol'
import { expect } from 'vitest'

/** Assert that `fn` throws a CryptoError with `code`. */
export function expectCode(fn: () => unknown, code: CryptoErrorCode): void {
  let thrown: unknown
  try {
    fn()
  } catch (err) {
    thrown = err
  }
  expect(thrown).toBeInstanceOf(CryptoError)
  expect((thrown as CryptoError).code).toBe(code)
}

/** Assert that the promise rejects with a CryptoError with `code`. */
export async function expectCodeAsync(p: Promise<unknown>, code: CryptoErrorCode): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(CryptoError)
  expect((err as CryptoError).code).toBe(code)
}
