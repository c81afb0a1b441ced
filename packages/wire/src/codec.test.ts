import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bytes, frame } from '../test/frame-arbitrary.js'
import { CloseCode, isRetryableClose } from './close-codes.js'
import { decodeFrame, encodeFrame } from './codec.js'
import { WireError } from './errors.js'
import type { Frame } from './frames.js'

describe('wire codec', () => {
  it('round-trips every frame type', () => {
    fc.assert(
      fc.property(frame, (f) => {
        expect(decodeFrame(encodeFrame(f))).toEqual(f)
      }),
    )
  })

  it('rejects arbitrary bytes with a WireError only, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (raw) => {
        try {
          decodeFrame(raw)
        } catch (err) {
          expect(err).toBeInstanceOf(WireError)
        }
      }),
    )
  })

  it('rejects truncation and trailing bytes of valid frames', () => {
    fc.assert(
      fc.property(frame, (f) => {
        const enc = encodeFrame(f)
        expect(() => decodeFrame(enc.subarray(0, enc.length - 1))).toThrow(WireError)
        const longer = new Uint8Array(enc.length + 1)
        longer.set(enc)
        expect(() => decodeFrame(longer)).toThrow(WireError)
      }),
    )
  })

  it('refuses document ids that are not storage-safe', () => {
    expect(() => encodeFrame({ type: 'unsubscribe', docId: '../etc' })).toThrowError(
      expect.objectContaining({ code: 'invalid-doc-id' }),
    )
    expect(() => decodeFrame(new Uint8Array([99]))).toThrowError(
      expect.objectContaining({ code: 'unknown-frame-type' }),
    )
  })

  it('refuses blob ids that are not base64url', () => {
    const f = { type: 'blob-commit', docId: 'd', ref: 1, size: 0 } as const
    for (const blobId of ['', 'a.b', '../x', 'x'.repeat(101)]) {
      expect(() => encodeFrame({ ...f, blobId })).toThrowError(
        expect.objectContaining({ code: 'invalid-blob-id' }),
      )
    }
    // blob-commit 'd' ref 1, blob id '.', size 0
    expect(() => decodeFrame(new Uint8Array([19, 1, 100, 1, 1, 46, 0]))).toThrowError(
      expect.objectContaining({ code: 'invalid-blob-id' }),
    )
  })

  it('classifies close codes: 44xx permanent, the rest retryable', () => {
    expect(isRetryableClose(CloseCode.Unauthenticated)).toBe(false)
    expect(isRetryableClose(CloseCode.Revoked)).toBe(false)
    expect(isRetryableClose(CloseCode.SlowConsumer)).toBe(true)
    expect(isRetryableClose(CloseCode.RateLimited)).toBe(true)
    expect(isRetryableClose(1006)).toBe(true)
    expect(isRetryableClose(1012)).toBe(true)
    expect(isRetryableClose(1000)).toBe(false)
  })
})

describe('integer fields', () => {
  const varuint = (v: bigint): number[] => {
    const out: number[] = []
    while (v >= 128n) {
      out.push(Number(v & 127n) | 128)
      v >>= 7n
    }
    return [...out, Number(v)]
  }
  const ints = (f: Frame) => Object.values(f).filter((v): v is number => typeof v === 'number')

  it('decodes only safe non-negative integers; anything else is a WireError (property)', () => {
    const big = fc.bigInt({ min: 0n, max: 2n ** 70n })
    fc.assert(
      fc.property(
        fc.nat({ max: 15 }),
        fc.array(
          fc.oneof(
            big.map(varuint),
            bytes.map((b) => [...b]),
          ),
        ),
        (tag, parts) => {
          const raw = new Uint8Array([tag, ...parts.flat()])
          try {
            const f = decodeFrame(raw)
            for (const v of ints(f)) expect(Number.isSafeInteger(v) && v >= 0).toBe(true)
          } catch (err) {
            expect(err).toBeInstanceOf(WireError)
          }
        },
      ),
      { numRuns: 3000, seed: 7 },
    )
  })

  it('refuses 2^53 and above at decode, and unsafe numbers at encode', () => {
    const sub = (since: number[]) => new Uint8Array([2, 1, 100, ...since, 0, 0]) // subscribe 'd'
    expect(decodeFrame(sub(varuint(2n ** 53n - 1n)))).toMatchObject({ sinceSeq: 2 ** 53 - 1 })
    for (const v of [2n ** 53n, 2n ** 64n - 1n]) {
      expect(() => decodeFrame(sub(varuint(v)))).toThrow(WireError)
    }
    for (const v of [-1, 0.5, 2 ** 53, Number.NaN]) {
      expect(() => encodeFrame({ type: 'ping', nonce: v })).toThrow(WireError)
    }
  })
})
