import { CryptoError } from '@valv/protocol'

/**
 * Collects stream pieces of any size and hands out exact-size chunks, copying each byte once,
 * so re-chunking costs O(n) whatever the piece sizes. Holds references to the pieces it was
 * given (WHATWG streams hand chunk ownership to the consumer).
 */
export class ByteQueue {
  private readonly parts: Uint8Array[] = []
  private head = 0
  /** Bytes queued. */
  length = 0

  /** Queue `bytes`; anything but a Uint8Array is `malformed`. */
  push(bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new CryptoError('malformed', 'expected Uint8Array')
    if (bytes.length === 0) return
    this.parts.push(bytes)
    this.length += bytes.length
  }

  /** Remove and return the next `n` bytes; `n` must not exceed `length`. */
  take(n: number): Uint8Array {
    const out = new Uint8Array(n)
    let filled = 0
    while (filled < n) {
      const part = this.parts[0] as Uint8Array
      const k = Math.min(part.length - this.head, n - filled)
      out.set(part.subarray(this.head, this.head + k), filled)
      filled += k
      this.head += k
      if (this.head === part.length) {
        this.parts.shift()
        this.head = 0
      }
    }
    this.length -= n
    return out
  }
}
