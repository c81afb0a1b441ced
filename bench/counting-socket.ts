/**
 * A `ws` WebSocket that counts what the server sent it, for benchmarks that ask "how many bytes
 * did this client download": pass {@link countingSocket}`(tally)` as the client's
 * `WebSocketPolyfill` (Valv provider or y-websocket) and read the tally afterwards. It counts
 * message payloads as they crossed the socket (WebSocket framing, 2–10 bytes a message, aside).
 */
import { WebSocket } from 'ws'

/** Bytes and messages received, in total and per kind (see {@link countingSocket}). */
export interface Tally {
  bytes: number
  messages: number
  readonly byKind: Map<string, { bytes: number; messages: number }>
}

/** An empty tally. */
export function newTally(): Tally {
  return { bytes: 0, messages: 0, byKind: new Map() }
}

/** `kind: bytes (messages)` per kind, largest first, for a bench's stderr. */
export function describeTally(t: Tally): string {
  return [...t.byKind.entries()]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .map(([k, v]) => `${k} ${v.bytes} B (${v.messages})`)
    .join(', ')
}

/**
 * A WebSocket class whose instances add every received message to `tally`, under the kind
 * `kindOf` names (default: one kind, `message`). Sockets made before `tally` is reset keep
 * counting into it, so make one class per measured client.
 */
export function countingSocket(
  tally: Tally,
  kindOf: (data: Uint8Array) => string = () => 'message',
): typeof WebSocket {
  class CountingSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols)
      this.on('message', (data: ArrayBuffer | Buffer | Buffer[]) => {
        const bytes = Array.isArray(data)
          ? Buffer.concat(data)
          : data instanceof ArrayBuffer
            ? new Uint8Array(data)
            : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        tally.bytes += bytes.byteLength
        tally.messages++
        const kind = kindOf(bytes)
        const k = tally.byKind.get(kind) ?? { bytes: 0, messages: 0 }
        k.bytes += bytes.byteLength
        k.messages++
        tally.byKind.set(kind, k)
      })
    }
  }
  // Only the (url, protocols) constructor is used by the clients measured.
  return CountingSocket as unknown as typeof WebSocket
}
