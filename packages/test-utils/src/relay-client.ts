import { decodeFrame, encodeFrame, type Frame, WIRE_VERSION } from '@valv/wire'
import WebSocket from 'ws'

/** A raw wire client that records every frame it receives. */
export class TestClient {
  readonly frames: Frame[] = []
  closeCode: number | undefined
  private waiters: (() => void)[] = []

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(decodeFrame(new Uint8Array(data as Buffer)))
      this.poke()
    })
    ws.on('close', (code) => {
      this.closeCode = code
      this.poke()
    })
  }

  static async connect(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
    const ws = new WebSocket(url, { headers })
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    return new TestClient(ws)
  }

  /** Connect, authenticate and subscribe to `docs`, waiting for `synced` of each. */
  static async ready(url: string, docs: string[], token = 't'): Promise<TestClient> {
    const c = await TestClient.connect(url)
    c.send({ type: 'auth', version: WIRE_VERSION, token })
    await c.next((f) => f.type === 'auth-ok')
    for (const docId of docs) await c.subscribe(docId)
    return c
  }

  async subscribe(docId: string, sinceSeq = 0, snapshotSeq = 0) {
    this.send({ type: 'subscribe', docId, sinceSeq, snapshotSeq, membershipFrom: 0 })
    return this.next((f) => f.type === 'synced' && f.docId === docId)
  }

  private poke() {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  send(frame: Frame) {
    this.ws.send(encodeFrame(frame))
  }

  sendRaw(bytes: Uint8Array | string) {
    this.ws.send(bytes)
  }

  /** The first recorded frame matching `pred` (waiting for it), removed from the list. */
  async next<F extends Frame>(pred: (f: Frame) => f is F, ms?: number): Promise<F>
  async next(pred: (f: Frame) => boolean, ms?: number): Promise<Frame>
  async next(pred: (f: Frame) => boolean, ms = 3000): Promise<Frame> {
    const deadline = Date.now() + ms
    for (;;) {
      const i = this.frames.findIndex(pred)
      if (i >= 0) return this.frames.splice(i, 1)[0] as Frame
      if (this.closeCode !== undefined) throw new Error(`closed ${this.closeCode}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error('timeout waiting for frame')
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  async closed(ms = 3000): Promise<number> {
    const deadline = Date.now() + ms
    while (this.closeCode === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10))
    }
    if (this.closeCode === undefined) throw new Error('not closed')
    return this.closeCode
  }

  close() {
    this.ws.close()
  }
}
