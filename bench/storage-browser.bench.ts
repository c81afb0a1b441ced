/**
 * IndexedDB in real headless Chromium (`/usr/bin/chromium`) under the storage workload:
 * envelopes sized like the automerge-paper trace appended through `DocumentStore` with 32 in
 * flight (each append a `strict`-durability transaction), then read back. The baseline is a
 * raw IndexedDB `put` per envelope in the same page, same durability. Bytes on disk are the
 * origin's IndexedDB directory (LevelDB files and the blob directory) after the appends.
 * Skipped (no rows) when Chromium is not installed.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { startChromiumPage } from '../packages/storage-indexeddb/test/chromium-page.js'
import type { Benchmark, BenchRow } from './harness.js'
import { IN_FLIGHT, traceEnvelopes } from './storage-workload.js'

interface PageFigures {
  appendS: number
  readS: number
  read: number
  rawAppendS: number
  rawReadS: number
}

// Runs in the page; the bundle from chromium-page.ts puts the classes on `valvIdb`.
async function workload([sizes, inFlight]: [number[], number]): Promise<PageFigures> {
  const g = window as unknown as {
    valvIdb: typeof import('../packages/storage-indexeddb/test/browser/rpc-globals.js')
  }
  const { IndexedDBStorageAdapter, DocumentStore } = g.valvIdb
  const items = sizes.map((n) => crypto.getRandomValues(new Uint8Array(n)))
  const pool = async (task: (i: number) => Promise<unknown>) => {
    const start = performance.now()
    let next = 0
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < items.length) await task(next++)
      }),
    )
    return (performance.now() - start) / 1000
  }
  const adapter = new IndexedDBStorageAdapter({ dbName: 'valv-bench' })
  const store = new DocumentStore(adapter)
  const appendS = await pool((i) => store.appendLog('bench', i + 1, items[i]!))
  let start = performance.now()
  let read = 0
  for await (const e of store.readLog('bench')) read += e.bytes.byteLength
  const readS = (performance.now() - start) / 1000
  await adapter.close()
  // Baseline: one raw put per envelope into a plain object store.
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open('raw-bench')
    req.onupgradeneeded = () => req.result.createObjectStore('s')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  const done = (tx: IDBTransaction) =>
    new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error)
    })
  const rawAppendS = await pool((i) => {
    const tx = db.transaction('s', 'readwrite', { durability: 'strict' })
    tx.objectStore('s').put(items[i], i)
    return done(tx)
  })
  start = performance.now()
  await new Promise<void>((resolve, reject) => {
    const req = db.transaction('s').objectStore('s').openCursor()
    req.onsuccess = () => {
      const cursor = req.result
      if (!cursor) return resolve()
      cursor.continue()
    }
    req.onerror = () => reject(req.error)
  })
  const rawReadS = (performance.now() - start) / 1000
  db.close()
  return { appendS, readS, read, rawAppendS, rawReadS }
}

function du(path: string): number {
  const st = statSync(path)
  if (!st.isDirectory()) return st.blocks * 512
  return readdirSync(path).reduce((n, name) => n + du(join(path, name)), st.blocks * 512)
}

const bench: Benchmark = async ({ quick }) => {
  if (!existsSync('/usr/bin/chromium')) return []
  const items = traceEnvelopes(quick ? 1000 : 100_000)
  const sizes = items.map((e) => e.byteLength)
  const total = sizes.reduce((a, b) => a + b, 0)
  const browser = await startChromiumPage()
  try {
    // tsx compiles this file with esbuild's keepNames, which wraps named functions in
    // `__name(...)`; the page has no such helper.
    await browser.page.evaluate('globalThis.__name = (f) => f')
    const f = await browser.page.evaluate(workload, [sizes, IN_FLIGHT] as [number[], number])
    if (f.read !== total) throw new Error(`indexeddb: read back ${f.read} of ${total} bytes`)
    // Let Chromium flush its LevelDB log before measuring the directory.
    await browser.page.close()
    const dir = join(browser.profile, 'Default', 'IndexedDB')
    const n = items.length
    const rows: BenchRow[] = [
      {
        name: `indexeddb (Chromium) appends/s (${IN_FLIGHT} in flight, durable)`,
        value: n / f.appendS,
        unit: 'ops/s',
        baseline: n / f.rawAppendS,
      },
      {
        name: 'indexeddb (Chromium) read',
        value: total / 1e6 / f.readS,
        unit: 'MB/s',
        baseline: total / 1e6 / f.rawReadS,
      },
      {
        // Both databases share the directory: half of it is attributed to each, so this is
        // an estimate; the baseline is the envelopes' own size.
        name: 'indexeddb (Chromium) bytes on disk per envelope (est.)',
        value: du(dir) / 2 / n,
        unit: 'B',
        baseline: total / n,
      },
    ]
    return rows
  } finally {
    await browser.stop()
  }
}

export default bench
