import {
  type KeyRange,
  type StorageAdapter,
  type StorageEntry,
  StorageError,
  type StorageErrorCode,
  type StorageKey,
} from '@valv/storage'
import type { ChromiumPage } from './chromium-page.js'

const BATCH = 1 << 20

type Reply = { ok: unknown } | { error: { name: string; code?: string; message: string } }

const b64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'))

/** Call `browser/rpc.ts` in the page; a StorageError thrown there is rebuilt here, code intact. */
export async function rpc<T>(browser: ChromiumPage, op: string, ...args: unknown[]): Promise<T> {
  const reply = await browser.page.evaluate(
    ([o, a]) =>
      (globalThis as unknown as { valvRpc: (o: string, a: unknown[]) => Promise<Reply> }).valvRpc(
        o,
        a,
      ),
    [op, args] as const,
  )
  if ('ok' in reply) return reply.ok as T
  const { error } = reply
  if (error.code !== undefined)
    throw new StorageError(error.code as StorageErrorCode, error.message)
  throw Object.assign(new Error(error.message), { name: error.name })
}

/**
 * A {@link StorageAdapter} whose every call runs on an `IndexedDBStorageAdapter` inside
 * Chromium. It adds no logic: keys go unvalidated to the page, values and stream chunks are
 * copied one call each, so what the conformance suite observes is the real adapter on the real
 * browser database.
 */
export class ChromiumIdbProxy implements StorageAdapter {
  private constructor(
    private readonly browser: ChromiumPage,
    private readonly id: number,
  ) {}

  /** Open an adapter on database `dbName` in the page. */
  static async open(browser: ChromiumPage, dbName: string): Promise<ChromiumIdbProxy> {
    return new ChromiumIdbProxy(browser, await rpc<number>(browser, 'open', dbName))
  }

  async get(key: StorageKey) {
    const v = await rpc<string | undefined>(this.browser, 'get', this.id, key)
    return v === undefined || v === null ? undefined : unb64(v)
  }
  put(key: StorageKey, value: Uint8Array) {
    return rpc<void>(this.browser, 'put', this.id, key, b64(value))
  }
  delete(key: StorageKey) {
    return rpc<void>(this.browser, 'delete', this.id, key)
  }
  deletePrefix(prefix: StorageKey) {
    return rpc<void>(this.browser, 'deletePrefix', this.id, prefix)
  }
  async *list(range: KeyRange): AsyncIterable<StorageEntry> {
    const entries = await rpc<[string[], string][]>(this.browser, 'list', this.id, range)
    for (const [key, value] of entries) yield { key, value: unb64(value) }
  }
  async *listChildren(prefix: StorageKey): AsyncIterable<string> {
    yield* await rpc<string[]>(this.browser, 'listChildren', this.id, prefix)
  }
  async putStream(key: StorageKey, source: AsyncIterable<Uint8Array>): Promise<number> {
    const wid = await rpc<number>(this.browser, 'beginPut', this.id, key)
    type Step = { more: true } | { size: number }
    // Coalesce into ~1 MiB calls (each call costs a round trip into the page); this buffers at
    // most one batch, so the proxy stays constant-memory too.
    let batch: Uint8Array[] = []
    let batched = 0
    const flush = async () => {
      const joined = Buffer.concat(batch, batched)
      batch = []
      batched = 0
      return rpc<Step>(this.browser, 'pushPut', wid, b64(joined), false)
    }
    try {
      for await (const chunk of source) {
        batch.push(chunk)
        batched += chunk.byteLength
        if (batched < BATCH) continue
        const step = await flush()
        if ('size' in step) return step.size
      }
      if (batched > 0) {
        const step = await flush()
        if ('size' in step) return step.size
      }
    } catch (error) {
      // The source failed: fail the page-side source the same way, then report ours.
      if (error instanceof StorageError) throw error
      await rpc(this.browser, 'pushPut', wid, null, true).catch(() => undefined)
      throw error
    }
    return (await rpc<{ size: number }>(this.browser, 'pushPut', wid, null, false)).size
  }
  async getStream(key: StorageKey): Promise<AsyncIterable<Uint8Array> | undefined> {
    const rid = await rpc<number | null>(this.browser, 'openRead', this.id, key)
    if (rid === null) return undefined
    const browser = this.browser
    return (async function* () {
      for (;;) {
        const chunk = await rpc<string | null>(browser, 'readNext', rid)
        if (chunk === null) return
        yield unb64(chunk)
      }
    })()
  }
  close() {
    return rpc<void>(this.browser, 'close', this.id)
  }
}
