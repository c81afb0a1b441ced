import { CryptoError } from '@valv/protocol'
import { padmeLength } from './primitives/padding.js'

/**
 * Length-hiding for files whose size is known up front (a browser `File`, a file on disk): the
 * plaintext stream becomes `size (u64) ‖ content ‖ zeros` of PADMÉ length, so the stored blob
 * reveals only O(log log n) bits of the size. Both directions run in constant memory: the true
 * size travels first, so the reader knows where content ends without buffering.
 */
export function padFileStream(size: number): TransformStream<Uint8Array, Uint8Array> {
  if (!Number.isSafeInteger(size) || size < 0) throw new CryptoError('malformed', 'bad file size')
  let seen = 0
  return new TransformStream({
    start(controller) {
      const head = new Uint8Array(8)
      new DataView(head.buffer).setBigUint64(0, BigInt(size))
      controller.enqueue(head)
    },
    transform(chunk, controller) {
      seen += chunk.length
      if (seen > size) controller.error(new CryptoError('malformed', 'file longer than stated'))
      else controller.enqueue(chunk)
    },
    flush(controller) {
      if (seen !== size) throw new CryptoError('malformed', 'file shorter than stated')
      let rest = padmeLength(size + 8) - size - 8
      while (rest > 0) {
        const n = Math.min(rest, 65536)
        controller.enqueue(new Uint8Array(n))
        rest -= n
      }
    },
  })
}

/** Undo {@link padFileStream}: emit exactly the stated number of content bytes. */
export function unpadFileStream(): TransformStream<Uint8Array, Uint8Array> {
  let head = new Uint8Array(0)
  let left: number | undefined
  return new TransformStream({
    transform(chunk, controller) {
      let rest = chunk
      if (left === undefined) {
        const joined = new Uint8Array(head.length + rest.length)
        joined.set(head)
        joined.set(rest, head.length)
        if (joined.length < 8) {
          head = joined
          return
        }
        left = Number(new DataView(joined.buffer).getBigUint64(0))
        rest = joined.subarray(8)
      }
      const take = Math.min(left, rest.length)
      if (take > 0) controller.enqueue(rest.slice(0, take))
      left -= take
    },
    flush() {
      if (left === undefined || left > 0) throw new CryptoError('truncated', 'file ended early')
    },
  })
}
