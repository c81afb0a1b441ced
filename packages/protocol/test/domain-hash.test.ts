import { sha256 } from '@noble/hashes/sha2.js'
import fc from 'fast-check'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { domainHashAsync } from '../src/bytes.js'
import { domainHash, domainMessage } from '../src/index.js'

describe('domainMessage', () => {
  it('is the lib0 encoding of the domain string and the parts (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.array(fc.uint8Array({ maxLength: 20000 }), { maxLength: 5 }),
        (domain, parts) => {
          const enc = encoding.createEncoder()
          encoding.writeVarString(enc, `valv/v1/${domain}`)
          for (const p of parts) encoding.writeVarUint8Array(enc, p)
          expect(domainMessage(domain, ...parts)).toEqual(encoding.toUint8Array(enc))
        },
      ),
      { numRuns: 300 },
    )
  })
})

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
