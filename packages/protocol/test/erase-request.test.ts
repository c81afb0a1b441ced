import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CryptoError,
  encodeEraseRequest,
  eraseRequestMessage,
  MembershipState,
  verifyEraseRequest,
} from '../src/index.js'

describe('erase requests', () => {
  it('any bytes are refused with a CryptoError, never another exception (property)', async () => {
    const state = new MembershipState('doc')
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 90 }), async (bytes) => {
        await expect(verifyEraseRequest(state, bytes, 's')).rejects.toBeInstanceOf(CryptoError)
      }),
      { numRuns: 300 },
    )
  })

  it('binds the document, the chain length and the session', () => {
    const fields = { sessionId: 's', chainLength: 3 }
    const base = eraseRequestMessage('doc', fields)
    const variants = [
      eraseRequestMessage('doc2', fields),
      eraseRequestMessage('doc', { ...fields, chainLength: 4 }),
      eraseRequestMessage('doc', { ...fields, sessionId: 't' }),
    ]
    for (const v of variants) expect(Buffer.compare(v, base)).not.toBe(0)
    // A different domain from every other signature: a blob grant is no erase request.
    expect(new TextDecoder().decode(base)).toContain('valv/v1/erase-request')
    expect(() => encodeEraseRequest(0, 3, new Uint8Array(63))).toThrow(CryptoError)
  })
})
