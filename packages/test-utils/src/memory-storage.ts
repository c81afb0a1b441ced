import type { KeyRange, StorageAdapter, StorageEntry, StorageKey } from '@valv/storage'

const join = (key: StorageKey) => key.join('/')

/**
 * A small, real in-memory StorageAdapter for relay tests. `close()` keeps the data so a test
 * can start a second relay on the same store (a restart).
 */
export class TestMemoryStorage implements StorageAdapter {
  readonly values = new Map<string, Uint8Array>()

  async get(key: StorageKey) {
    return this.values.get(join(key))?.slice()
  }
  async put(key: StorageKey, value: Uint8Array) {
    this.values.set(join(key), value.slice())
  }
  async delete(key: StorageKey) {
    this.values.delete(join(key))
  }
  async *list(range: KeyRange): AsyncIterable<StorageEntry> {
    const prefix = `${join(range.prefix)}/`
    const hits = [...this.values.keys()]
      .filter((k) => k.startsWith(prefix) && !k.slice(prefix.length).includes('/'))
      .map((k) => k.slice(prefix.length))
      .filter(
        (s) =>
          (range.start === undefined || s >= range.start) &&
          (range.end === undefined || s < range.end),
      )
      .sort()
      .slice(0, range.limit ?? Number.POSITIVE_INFINITY)
    for (const s of hits) {
      const value = this.values.get(prefix + s)
      if (value) yield { key: [...range.prefix, s], value: value.slice() }
    }
  }
  async *listChildren(prefix: StorageKey): AsyncIterable<string> {
    const p = `${join(prefix)}/`
    const seen = new Set<string>()
    for (const k of this.values.keys())
      if (k.startsWith(p)) seen.add(k.slice(p.length).split('/')[0] as string)
    yield* [...seen].sort()
  }
  async deletePrefix(prefix: StorageKey) {
    const p = join(prefix)
    for (const k of [...this.values.keys()])
      if (k === p || k.startsWith(`${p}/`)) this.values.delete(k)
  }
  // Blobs (the relay keeps membership entries as blobs) share the map, so scans see them.
  async putStream(key: StorageKey, source: AsyncIterable<Uint8Array>): Promise<number> {
    const chunks: Uint8Array[] = []
    for await (const c of source) chunks.push(c.slice())
    const all = Buffer.concat(chunks)
    this.values.set(join(key), new Uint8Array(all))
    return all.length
  }
  async getStream(key: StorageKey): Promise<AsyncIterable<Uint8Array> | undefined> {
    const v = this.values.get(join(key))
    if (!v) return undefined
    return (async function* () {
      yield v.slice()
    })()
  }
  async close() {}
}
