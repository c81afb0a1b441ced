/**
 * Re-cut a byte stream into pieces of exactly `size` bytes (the last may be shorter), holding
 * at most one piece in memory, so adapters that store blobs as fixed-size rows or records get a
 * predictable size per row. Yields nothing for an empty stream.
 *
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs'
 * for await (const piece of rechunk(createReadStream('big.bin'), 256 * 1024)) console.log(piece.length)
 * ```
 */
export async function* rechunk(
  source: AsyncIterable<Uint8Array>,
  size: number,
): AsyncGenerator<Uint8Array> {
  let buffer = new Uint8Array(size)
  let filled = 0
  for await (const piece of source) {
    let offset = 0
    while (offset < piece.length) {
      const n = Math.min(size - filled, piece.length - offset)
      buffer.set(piece.subarray(offset, offset + n), filled)
      filled += n
      offset += n
      if (filled === size) {
        yield buffer
        buffer = new Uint8Array(size)
        filled = 0
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled)
}
