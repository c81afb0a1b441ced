import { sha256 } from '@noble/hashes/sha2.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { domainHashAsync } from '../src/bytes.js'
import { domainHash, domainMessage } from '../src/index.js'

describe('domainHash', () => {
  it('is SHA-256 of domainMessage for any parts, short or streamed (property)', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.array(fc.uint8Array({ maxLength: 1200 }), { maxLength: 5 }),
        (domain, parts) => {
          expect(domainHash(domain, ...parts)).toEqual(sha256(domainMessage(domain, ...parts)))
        },
      ),
      { numRuns: 300 },
    )
  })

  it('gives the same bytes through the native digest (domainHashAsync, property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string(),
        fc.array(fc.uint8Array({ maxLength: 1200 }), { maxLength: 5 }),
        async (domain, parts) => {
          expect(await domainHashAsync(domain, ...parts)).toEqual(domainHash(domain, ...parts))
        },
      ),
      { numRuns: 300 },
    )
  })
})
