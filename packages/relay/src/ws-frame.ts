// Keyed by the encoded frame (one object per fan-out, see encode-once.ts): the WebSocket
// framing of a server message is the same for every subscriber, so it is built once.
const framed = new WeakMap<Uint8Array, Buffer>()

/**
 * `payload` as one final, unmasked, binary WebSocket frame (RFC 6455 §5.2: header and payload
 * in one buffer), built once per payload object. The relay writes it to the TCP socket itself
 * instead of calling `ws.send`: profiled under load (`bench/load.ts`), `ws` framed each message
 * again per subscriber and wrote header and payload as two chunks. Only valid while `ws` holds
 * nothing queued in its sender, which is so without permessage-deflate (the relay checks that
 * none was negotiated) and without Blob data (it never sends any): see `Relay.send`.
 */
export function frameOnce(payload: Uint8Array): Buffer {
  let bytes = framed.get(payload)
  if (bytes === undefined) {
    const n = payload.byteLength
    const head = n < 126 ? 2 : n < 65536 ? 4 : 10
    bytes = Buffer.allocUnsafe(head + n)
    bytes[0] = 0x82 // FIN, opcode 2 (binary)
    if (n < 126) bytes[1] = n
    else if (n < 65536) {
      bytes[1] = 126
      bytes.writeUInt16BE(n, 2)
    } else {
      bytes[1] = 127
      bytes.writeBigUInt64BE(BigInt(n), 2)
    }
    bytes.set(payload, head)
    framed.set(payload, bytes)
  }
  return bytes
}
