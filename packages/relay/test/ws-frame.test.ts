import { once } from 'node:events'
import { createServer } from 'node:http'
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { frameOnce } from '../src/ws-frame.js'

const closers: (() => void)[] = []
afterEach(() => {
  for (const c of closers.splice(0)) c()
})

describe('frameOnce', () => {
  it('frames payloads of every header size so that a ws client reads them back unchanged', async () => {
    const sizes = [0, 1, 125, 126, 65535, 65536, 200_000]
    const payloads = sizes.map((n) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 255))
    const wss = new WebSocketServer({ noServer: true })
    const http = createServer()
    http.on('upgrade', (req, socket: Socket, head) => {
      wss.handleUpgrade(req, socket, head, () => {
        // Written to the socket directly, as the relay does.
        for (const p of payloads) socket.write(frameOnce(p))
      })
    })
    http.listen(0, '127.0.0.1')
    await once(http, 'listening')
    closers.push(() => http.close())
    const { port } = http.address() as { port: number }
    const client = new WebSocket(`ws://127.0.0.1:${port}`)
    closers.push(() => client.terminate())
    const got: Buffer[] = []
    await new Promise<void>((resolve, reject) => {
      client.on('error', reject)
      client.on('message', (data: Buffer, isBinary) => {
        expect(isBinary).toBe(true)
        got.push(data)
        if (got.length === payloads.length) resolve()
      })
    })
    expect(got.map((b) => b.length)).toEqual(sizes)
    for (let i = 0; i < sizes.length; i++)
      expect(new Uint8Array(got[i] as Buffer)).toEqual(payloads[i])
  })

  it('builds the frame once per payload object', () => {
    const p = new Uint8Array([1, 2, 3])
    expect(frameOnce(p)).toBe(frameOnce(p))
    expect([...frameOnce(p)]).toEqual([0x82, 3, 1, 2, 3])
  })
})
