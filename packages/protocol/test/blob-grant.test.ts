import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  blobGrantMessage,
  CryptoError,
  encodeBlobGrant,
  MembershipState,
  verifyBlobGrant,
} from '../src/index.js'

const fields = { op: 'upload', blobId: 'b', size: 5, sessionId: 's' } as const

describe('blob grants', () => {
  it('any bytes are refused with a CryptoError, never another exception (property)', async () => {
    const state = new MembershipState('doc')
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 90 }), async (bytes) => {
        await expect(verifyBlobGrant(state, bytes, fields)).rejects.toBeInstanceOf(CryptoError)
      }),
      { numRuns: 300 },
    )
  })

  it('binds the document, the operation, the blob, the size and the session', () => {
    const base = blobGrantMessage('doc', fields)
    const variants = [
      blobGrantMessage('doc2', fields),
      blobGrantMessage('doc', { ...fields, op: 'delete' }),
      blobGrantMessage('doc', { ...fields, blobId: 'c' }),
      blobGrantMessage('doc', { ...fields, size: 6 }),
      blobGrantMessage('doc', { ...fields, sessionId: 't' }),
    ]
    for (const v of variants) expect(Buffer.compare(v, base)).not.toBe(0)
    expect(() => encodeBlobGrant(0, new Uint8Array(63))).toThrow(CryptoError)
  })
})
