import type { Socket } from 'node:net'

// Beyond this many buffered bytes a corked socket is written out at once: a large catch-up is
// not held in memory (nor counted against the slow-consumer limit) until the tick ends.
const FLUSH_BYTES = 64 * 1024

/**
 * Coalesces what the relay sends to one socket in one turn of the event loop into one write.
 * Profiled under load (`bench/load.ts`): one `writev` system call per frame per subscriber
 * was the relay's largest cost, and a subscriber that joins is sent its whole backlog (one
 * frame per stored update) in one turn. The first send of a turn corks the socket; the turn's
 * promise jobs run; a `process.nextTick` then uncorks every socket corked, so frames are
 * delayed by no timer, only gathered. `ws` balances its own cork/uncork within each send, so
 * a corked socket outside a send is one this batch corked.
 */
export class TickBatch {
  private corked: Socket[] = []
  private scheduled = false

  /** Call before writing to `socket`: holds its writes until the end of the current turn. */
  hold(socket: Socket): void {
    if (socket.writableCorked > 0) return
    socket.cork()
    this.corked.push(socket)
    if (this.scheduled) return
    this.scheduled = true
    process.nextTick(() => this.flush())
  }

  /** Call after writing to `socket`: writes it out early once enough is buffered. */
  written(socket: Socket): void {
    if (socket.writableCorked > 0 && socket.writableLength >= FLUSH_BYTES) uncork(socket)
  }

  private flush(): void {
    this.scheduled = false
    const sockets = this.corked
    this.corked = []
    for (const s of sockets) uncork(s)
  }
}

function uncork(socket: Socket): void {
  while (socket.writableCorked > 0) socket.uncork()
}
