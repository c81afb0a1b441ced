import type { Frame } from '@valv/wire'
import { WebsocketProviderError } from './errors.js'
import type { WebsocketProvider } from './provider.js'

/** One request of a file transfer: settled by its `ack` or `error`; `blob-data` goes to `data`. */
interface Request {
  resolve(seq: number): void
  reject(e: Error): void
  data?: (offset: number, bytes: Uint8Array) => void
}

// Above any ref the provider itself uses (it counts from 1), so acks never go to the wrong one.
const FIRST_REF = 2 ** 40

/**
 * File requests over a provider's connection: refs of their own, answers routed back, and
 * every open request failed with `closed` when the connection drops (the caller resumes).
 */
export class FileChannel {
  private nextRef = FIRST_REF
  private readonly open = new Map<number, Request>()

  constructor(readonly provider: WebsocketProvider) {
    provider.onFrame((f) => this.route(f))
    provider.on('status', ({ status }) => {
      if (status !== 'connected') this.failAll()
    })
  }

  /** The document's id. */
  get docId(): string {
    return this.provider.binding.docId
  }

  /** The relay session id once the document is synced (waits for a reconnect if needed). */
  async connected(): Promise<string> {
    for (;;) {
      const id = this.provider.sessionId
      if (this.provider.synced && id !== undefined) return id
      await this.provider.whenSynced()
    }
  }

  /**
   * Resolves when the provider is synced on a new connection: after a request failed with
   * `closed`, the old socket may still look open for a moment, so wait for the next one.
   */
  reconnected(): Promise<void> {
    return new Promise((resolve) => {
      const on = (synced: boolean) => {
        if (!synced) return
        this.provider.off('synced', on)
        resolve()
      }
      this.provider.on('synced', on)
    })
  }

  /** Send the frame `build(ref)`; resolves with the `seq` of its ack. */
  request(build: (ref: number) => Frame, data?: Request['data']): Promise<number> {
    const ref = this.nextRef++
    return new Promise((resolve, reject) => {
      this.open.set(ref, { resolve, reject, ...(data ? { data } : {}) })
      if (!this.provider.sendFrame(build(ref))) {
        this.open.delete(ref)
        reject(new WebsocketProviderError('closed', 'not connected'))
      }
    })
  }

  private route(f: Frame): boolean {
    if (f.type !== 'ack' && f.type !== 'error' && f.type !== 'blob-data') return false
    const r = this.open.get(f.ref)
    if (r === undefined) return f.type === 'blob-data'
    if (f.type === 'blob-data') r.data?.(f.offset, f.data)
    else {
      this.open.delete(f.ref)
      if (f.type === 'ack') r.resolve(f.seq)
      else {
        const message = `relay rejected: ${f.code} (${f.message})`
        r.reject(new WebsocketProviderError('rejected', message, { relayCode: f.code }))
      }
    }
    return true
  }

  private failAll(): void {
    const lost = [...this.open.values()]
    this.open.clear()
    for (const r of lost) r.reject(new WebsocketProviderError('closed', 'connection lost'))
  }
}

const channels = new WeakMap<WebsocketProvider, FileChannel>()

/** The file channel of `provider` (one per provider). */
export function fileChannel(provider: WebsocketProvider): FileChannel {
  let c = channels.get(provider)
  if (c === undefined) {
    c = new FileChannel(provider)
    channels.set(provider, c)
  }
  return c
}

/** Whether a failed request may be retried after the connection is back. */
export function isConnectionLost(e: unknown): boolean {
  return e instanceof WebsocketProviderError && e.code === 'closed'
}
