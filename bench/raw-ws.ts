/**
 * A minimal WebSocket client on a raw TCP socket, for the load generator's readers: tens of
 * thousands of frames per second must cost the generator little, so a reader parses frame
 * headers only and decodes a payload (with `@valv/wire`) just until it is caught up. It speaks
 * enough of RFC 6455 for the relay: the upgrade handshake, masked binary frames out, unmasked
 * frames in, pings answered.
 */
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { decodeFrame, type Frame } from '../packages/wire/src/index.js'

/** One raw reader connection. */
export interface RawReader {
  readonly socket: Socket
  /** Frames received so far. */
  frames: number
  /** `headSeq` of the `synced` answer to the subscription. */
  readonly headSeq: Promise<number>
  /** Send one binary message (masked, as a client must). */
  send(payload: Uint8Array): void
  readonly closed: boolean
}

/** A client frame: FIN + binary (or `opcode`), masked with a fresh key. */
function clientFrame(payload: Uint8Array, opcode = 0x2): Buffer {
  const n = payload.length
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10
  const out = Buffer.allocUnsafe(head + 4 + n)
  out[0] = 0x80 | opcode
  if (n < 126) out[1] = 0x80 | n
  else if (n < 65536) {
    out[1] = 0x80 | 126
    out.writeUInt16BE(n, 2)
  } else {
    out[1] = 0x80 | 127
    out.writeBigUInt64BE(BigInt(n), 2)
  }
  const mask = randomBytes(4)
  mask.copy(out, head)
  for (let i = 0; i < n; i++) out[head + 4 + i] = (payload[i] as number) ^ (mask[i & 3] as number)
  return out
}

/**
 * Connect to `ws://127.0.0.1:port/`, send `first` (auth and subscribe, already encoded) and
 * resolve once the upgrade succeeded. Payloads are decoded (and passed to `onFrame`) until a
 * `synced` frame arrives; after that frames are only counted.
 */
export function openRawReader(
  port: number,
  first: readonly Uint8Array[],
  onFrame?: (f: Frame) => void,
): Promise<RawReader> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.setNoDelay(true)
    let upgraded = false
    let caughtUp = false
    let pending: Buffer = Buffer.alloc(0)
    let synced: (n: number) => void = () => undefined
    let failed: (e: Error) => void = () => undefined
    const headSeq = new Promise<number>((res, rej) => {
      synced = res
      failed = rej
    })
    headSeq.catch(() => undefined)
    const reader: RawReader = {
      socket,
      frames: 0,
      headSeq,
      closed: false,
      send: (payload) => {
        if (!socket.destroyed) socket.write(clientFrame(payload))
      },
    }
    const key = randomBytes(16).toString('base64')
    socket.once('connect', () => {
      socket.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      )
    })
    socket.on('error', (err) => {
      if (!upgraded) reject(err)
      failed(err)
    })
    socket.on('close', () => {
      ;(reader as { closed: boolean }).closed = true
      if (!upgraded) reject(new Error('closed before upgrade'))
      failed(new Error('closed before synced'))
    })
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      if (!upgraded) {
        const end = pending.indexOf('\r\n\r\n')
        if (end === -1) return
        const status = pending.subarray(0, end).toString('latin1').split(' ')[1]
        if (status !== '101') {
          socket.destroy()
          return reject(new Error(`upgrade refused: ${status}`))
        }
        upgraded = true
        pending = pending.subarray(end + 4)
        for (const f of first) reader.send(f)
        resolve(reader)
      }
      // Whole frames only; a partial one waits in `pending` for the next chunk.
      let at = 0
      while (pending.length - at >= 2) {
        const b0 = pending[at] as number
        const b1 = (pending[at + 1] as number) & 0x7f
        let len = b1
        let head = 2
        if (b1 === 126) {
          if (pending.length - at < 4) break
          len = pending.readUInt16BE(at + 2)
          head = 4
        } else if (b1 === 127) {
          if (pending.length - at < 10) break
          len = Number(pending.readBigUInt64BE(at + 2))
          head = 10
        }
        if (pending.length - at < head + len) break
        const opcode = b0 & 0x0f
        const body = pending.subarray(at + head, at + head + len)
        at += head + len
        if (opcode === 0x9) socket.write(clientFrame(body, 0xa))
        if (opcode === 0x8) socket.end()
        if (opcode !== 0x2) continue
        reader.frames++
        if (caughtUp) continue
        const f = decodeFrame(new Uint8Array(body.buffer, body.byteOffset, body.length))
        onFrame?.(f)
        if (f.type === 'synced') {
          caughtUp = true
          synced(f.headSeq)
        }
      }
      pending = at === pending.length ? Buffer.alloc(0) : pending.subarray(at)
    })
  })
}
