/** Wire frames: what the relay decodes from every client and clients from the relay. */
import { decodeFrame, encodeFrame, WireError } from '@valv/wire'
import fc from 'fast-check'
import { frame } from '../../../packages/wire/test/frame-arbitrary.js'
import { InvariantBroken, type Target } from '../driver.js'

/** Every frame type with arbitrary field values (the codec tests' arbitrary). */
export const frameArb = frame

/** `decodeFrame` over generated frames, random bytes and mutations of one frame of each type. */
export function frameTarget(): Target {
  const samples = fc.sample(frameArb, { seed: 7, numRuns: 200 }).map(encodeFrame)
  return {
    name: 'frame',
    rejects: [
      {
        error: WireError,
        codes: ['malformed-frame', 'unknown-frame-type', 'invalid-doc-id', 'invalid-blob-id'],
      },
    ],
    samples,
    generate: fc.oneof(frameArb.map(encodeFrame), fc.uint8Array({ maxLength: 300 })),
    run(input) {
      const frame = decodeFrame(input)
      // Byte fields are copies: a decoded frame never pins (or reads past) the socket buffer.
      // File chunks are the documented exception (`decodeFrame`): views, to halve garbage.
      if (frame.type === 'blob-chunk' || frame.type === 'blob-data') return frame
      for (const v of Object.values(frame)) {
        if (v instanceof Uint8Array && v.buffer === input.buffer) {
          throw new InvariantBroken('frame bytes alias the input buffer')
        }
      }
      return frame
    },
    memoryBound: 16 * 2 ** 20,
  }
}
