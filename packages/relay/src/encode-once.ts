import { encodeFrame, type Frame } from '@valv/wire'

// Keyed by the frame object: a fan-out sends one object to every subscriber, so it is encoded
// once, not once per subscriber (profiled: frame encoding grew with subscribers per document).
const encoded = new WeakMap<Frame, Uint8Array>()

/** `encodeFrame(frame)`, computed once per frame object. Frames are never mutated after sending. */
export function encodeOnce(frame: Frame): Uint8Array {
  let bytes = encoded.get(frame)
  if (bytes === undefined) {
    bytes = encodeFrame(frame)
    encoded.set(frame, bytes)
  }
  return bytes
}
