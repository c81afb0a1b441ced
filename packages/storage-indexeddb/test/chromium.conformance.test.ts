import { runStorageAdapterTests } from '@valv/storage/conformance'
import { afterAll, vi } from 'vitest'
import { type ChromiumPage, startChromiumPage } from './chromium-page.js'
import { ChromiumIdbProxy, rpc } from './chromium-proxy.js'

let browser: Promise<ChromiumPage> | undefined
const chromium = () => {
  browser ??= startChromiumPage()
  return browser
}
afterAll(async () => {
  if (browser) await (await browser).stop()
})
let counter = 0
// Every adapter call is a round trip into the browser and every write an fsync ('strict'
// durability): the suite's quick tests need more than the default 30 s on a loaded machine.
vi.setConfig({ testTimeout: 120_000 })

// The suite runs in Node and drives the real adapter on Chromium's IndexedDB through
// `ChromiumIdbProxy`. Its memory checks therefore bound the test process only; the page's own
// memory while streaming 50 MiB is measured in chromium.test.ts.
runStorageAdapterTests(
  'IndexedDBStorageAdapter (headless Chromium)',
  async () => {
    const page = await chromium()
    const dbName = `valv-conformance-${++counter}`
    const adapter = await ChromiumIdbProxy.open(page, dbName)
    return {
      adapter,
      reopen: () => ChromiumIdbProxy.open(page, dbName),
      // Every record of the browser's object store (keys and values).
      scanRaw: async () => ({
        items: (await rpc<string[]>(page, 'scan', dbName)).map(
          (s) => new Uint8Array(Buffer.from(s, 'base64')),
        ),
        emptyContainers: [],
      }),
      teardown: async () => {
        await adapter.close()
        await rpc(page, 'drop', dbName)
      },
    }
  },
  { manyDocuments: 150, modelRuns: 6, timeoutMs: 480_000 },
)
