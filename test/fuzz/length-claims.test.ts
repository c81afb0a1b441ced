/**
 * Length fields that claim far more than the input holds (2^32, 2^40, 2^53 − 1, 2^64 − 1) are
 * rejected with the typed error before anything of that size is allocated. The campaign hits
 * these at random; here each decoder gets every claim deliberately.
 */
import { CoreError, decodeSnapshotBody, readHeads } from '@valv/core'
import { CryptoError, decryptBlob, PublicCard } from '@valv/crypto'
import { decodeEntry, decodeEnvelope } from '@valv/protocol'
import { decodePresence, WebsocketProviderError } from '@valv/provider-websocket'
import { decodeFrame, FrameType, WireError } from '@valv/wire'
import * as decoding from 'lib0/decoding'
import { describe, expect, it } from 'vitest'
import { varuint } from './mutate.js'

const CLAIMS = [2n ** 32n, 2n ** 40n, 2n ** 53n - 1n, 2n ** 64n - 1n]
const bytes = (...parts: (number[] | Uint8Array)[]) => Uint8Array.from(parts.flatMap((p) => [...p]))
const str = (s: string) => [...varuint(BigInt(s.length)), ...new TextEncoder().encode(s)]
const heap = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers

/** Each claim, the error it must raise. */
const CASES: [string, (claim: Uint8Array) => unknown, abstract new (...a: never[]) => Error][] = [
  [
    'frame payload',
    (c) => decodeFrame(bytes([FrameType.Envelope], str('doc'), [1], c, [1, 2])),
    WireError,
  ],
  ['frame doc id', (c) => decodeFrame(bytes([FrameType.Unsubscribe], c, [0x61])), WireError],
  [
    'envelope ciphertext',
    (c) => decodeEnvelope(bytes([1, 1, 1, 0, 0, 1], c, new Uint8Array(80))),
    CryptoError,
  ],
  [
    'membership payload',
    (c) =>
      decodeEntry(
        bytes([1, 6, 1], new Uint8Array(32), [0], new Uint8Array(32), [1], c, new Uint8Array(70)),
      ),
    CryptoError,
  ],
  ['snapshot state', (c) => decodeSnapshotBody(bytes([1, 0, 0], c)), CoreError],
  ['heads count', (c) => readHeads(decoding.createDecoder(bytes(c, str('a'), [1]))), CoreError],
  ['presence session', (c) => decodePresence(bytes([1], c, [0x61])), WebsocketProviderError],
  [
    'card device key',
    (c) => PublicCard.fromBytes(bytes(new Uint8Array(32), str('A'), [1], new Uint8Array(32), c)),
    CryptoError,
  ],
]

describe('length claims past the input', () => {
  for (const [name, decode, error] of CASES) {
    it(`${name}: rejected with ${error.name}, nothing large allocated`, () => {
      const before = heap()
      for (const claim of CLAIMS) expect(() => decode(varuint(claim))).toThrow(error)
      expect(heap() - before).toBeLessThan(16 * 2 ** 20)
    })
  }

  it('an encrypted file whose header claims 4 GiB chunks is refused before buffering', () => {
    const header = bytes([1, 0xff, 0xff, 0xff, 0xff], new Uint8Array(16), new Uint8Array(32))
    const before = heap()
    expect(() => decryptBlob(new Uint8Array(32), header)).toThrow(CryptoError)
    expect(heap() - before).toBeLessThan(16 * 2 ** 20)
  })
})
