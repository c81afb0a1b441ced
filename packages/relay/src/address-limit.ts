import type { Socket } from 'node:net'

/**
 * Open connections per remote address. A connection is counted from its upgrade request until
 * its TCP socket closes, whatever happens in between (failed handshake, veto, normal close).
 */
export class AddressLimit {
  private readonly open = new Map<string, number>()

  /** @param max - connections per address; 0 = unlimited */
  constructor(private readonly max: number) {}

  /** Count `socket` against its address; false (nothing counted) if the address is full. */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress ?? ''
    const n = this.open.get(address) ?? 0
    if (this.max > 0 && n >= this.max) return false
    this.open.set(address, n + 1)
    socket.once('close', () => {
      const left = (this.open.get(address) ?? 1) - 1
      if (left <= 0) this.open.delete(address)
      else this.open.set(address, left)
    })
    return true
  }
}

/**
 * Count the bytes arriving on `socket` before authentication, as they arrive: `over` runs once
 * they exceed `limit`, so a peer cannot make the relay buffer a large unfinished frame before
 * it has authenticated. Returns a function that stops counting (call it on authentication).
 */
export function meterPreAuth(
  socket: Socket,
  head: Buffer,
  limit: number,
  over: () => void,
): () => void {
  let seen = head.length
  let tripped = false
  const onData = (chunk: Buffer) => {
    seen += chunk.length
    if (seen <= limit) return
    if (tripped) {
      // The peer keeps sending after the close frame: stop reading it at all.
      socket.destroy()
      return
    }
    tripped = true
    over()
  }
  socket.on('data', onData)
  return () => socket.off('data', onData)
}
