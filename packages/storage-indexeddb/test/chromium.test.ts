import type { CDPSession } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ChromiumPage, startChromiumPage } from './chromium-page.js'

/** What the page reports back; computed with the adapter running in real Chromium. */
interface PageReport {
  children: string[]
  listed: string[]
  values: number[][]
  blobSize: number
  blobSum: number
  afterDelete: string[]
  deletedStream: boolean
}

// Runs inside the page: the adapter bundle is on `window.valvIdb`.
async function exercise(blobBytes: number): Promise<PageReport> {
  const { IndexedDBStorageAdapter } = (
    window as unknown as { valvIdb: typeof import('../src/index.js') }
  ).valvIdb
  const adapter = new IndexedDBStorageAdapter({ dbName: 'valv-e2e', chunkSize: 1 << 20 })
  for (let i = 0; i < 20; i++)
    await adapter.put(['doc', 'a', 'log', String(i).padStart(4, '0')], new Uint8Array([i]))
  await adapter.put(['doc', 'a-b'], new Uint8Array([7]))
  await adapter.put(['doc', 'gone', 'log', '0001'], new Uint8Array([9]))
  await adapter.putStream(
    ['doc', 'gone', 'file'],
    (async function* () {
      yield new Uint8Array(1000).fill(5)
    })(),
  )
  async function* blob() {
    for (let offset = 0; offset < blobBytes; offset += 65536) {
      yield Uint8Array.from(
        { length: Math.min(65536, blobBytes - offset) },
        (_, i) => (offset + i) & 0xff,
      )
    }
  }
  await adapter.putStream(['doc', 'a', 'file'], blob())
  await adapter.deletePrefix(['doc', 'gone'])
  const children: string[] = []
  for await (const c of adapter.listChildren(['doc'])) children.push(c)
  const listed: string[] = []
  const values: number[][] = []
  for await (const e of adapter.list({ prefix: ['doc', 'a', 'log'], start: '0005', end: '0008' })) {
    listed.push(e.key.join('/'))
    values.push([...e.value])
  }
  let blobSize = 0
  let blobSum = 0
  for await (const part of (await adapter.getStream(['doc', 'a', 'file']))!) {
    for (let i = 0; i < part.length; i++)
      blobSum = (blobSum + part[i]! * ((blobSize + i) % 7)) % 1_000_000_007
    blobSize += part.length
  }
  const afterDelete: string[] = []
  for await (const c of adapter.listChildren(['doc', 'gone'])) afterDelete.push(c)
  const deletedStream = (await adapter.getStream(['doc', 'gone', 'file'])) === undefined
  await adapter.close()
  return { children, listed, values, blobSize, blobSum, afterDelete, deletedStream }
}

// Runs inside the page after a reload or a browser restart.
async function readBack(): Promise<{ log: number; a: number[] | undefined; blob: number }> {
  const { IndexedDBStorageAdapter } = (
    window as unknown as { valvIdb: typeof import('../src/index.js') }
  ).valvIdb
  const adapter = new IndexedDBStorageAdapter({ dbName: 'valv-e2e' })
  let log = 0
  for await (const _ of adapter.list({ prefix: ['doc', 'a', 'log'] })) log++
  const a = await adapter.get(['doc', 'a-b'])
  let blob = 0
  for await (const part of (await adapter.getStream(['doc', 'a', 'file']))!) blob += part.length
  await adapter.close()
  return { log, a: a && [...a], blob }
}

function expectedSum(n: number): number {
  let sum = 0
  for (let i = 0; i < n; i++) sum = (sum + (i & 0xff) * (i % 7)) % 1_000_000_007
  return sum
}

/** Live JS heap plus array-buffer backing stores of the page, after a full GC. */
async function pageMemory(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage')
  const usage = (await cdp.send('Runtime.getHeapUsage')) as {
    usedSize: number
    backingStorageSize?: number
  }
  return usage.usedSize + (usage.backingStorageSize ?? 0)
}

describe('IndexedDBStorageAdapter in headless Chromium', () => {
  let browser: ChromiumPage

  beforeAll(async () => {
    browser = await startChromiumPage()
  })
  afterAll(async () => {
    await browser?.stop()
  })

  it('puts, lists, streams (50 MiB, constant page memory) and erases in the page; data survives a reload and a browser restart', async () => {
    const blobBytes = 50 * (1 << 20) + 12345
    let page = browser.page
    const cdp = await page.context().newCDPSession(page)
    const base = await pageMemory(cdp)
    let peak = base
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await pageMemory(cdp))
        await new Promise((r) => setTimeout(r, 100))
      }
    })()
    const report = await page.evaluate(exercise, blobBytes).finally(() => {
      sampling = false
    })
    await sampler
    expect(report).toEqual({
      children: ['a', 'a-b'],
      listed: ['doc/a/log/0005', 'doc/a/log/0006', 'doc/a/log/0007'],
      values: [[5], [6], [7]],
      blobSize: blobBytes,
      blobSum: expectedSum(blobBytes),
      afterDelete: [],
      deletedStream: true,
    })
    // Streaming 50 MiB in and out of IndexedDB keeps the page's live memory to a few 1 MiB
    // chunks; holding the blob would need more than 50 MiB.
    expect(peak - base, 'page memory growth while streaming 50 MiB').toBeLessThan(16 << 20)
    const expected = { log: 20, a: [7], blob: blobBytes }
    await page.reload()
    expect(await page.evaluate(readBack)).toEqual(expected)
    await browser.restart()
    page = browser.page
    expect(await page.evaluate(readBack)).toEqual(expected)
  }, 120_000)

  it("reports an exhausted storage quota as 'full' and keeps earlier data", async () => {
    // Its own origin (localhost instead of 127.0.0.1), so no other test's data counts.
    const page = await browser.page.context().newPage()
    const url = browser.url.replace('127.0.0.1', 'localhost')
    await page.goto(url)
    const cdp = await page.context().newCDPSession(page)
    // A real 2 MiB quota on the real origin: Chromium's quota manager refuses the commit.
    const origin = new URL(url).origin
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 2 << 20 })
    try {
      const outcome = await page.evaluate(async () => {
        const { IndexedDBStorageAdapter } = (
          window as unknown as { valvIdb: typeof import('../src/index.js') }
        ).valvIdb
        const adapter = new IndexedDBStorageAdapter({ dbName: 'valv-quota' })
        const codeOf = (p: Promise<unknown>) =>
          p.then(
            () => 'resolved',
            (e: { code?: string; name?: string }) => e.code ?? `raw ${e.name}`,
          )
        await adapter.put(['small'], new Uint8Array([1, 2, 3]))
        // Chromium checks quota against its cached usage, so fill until it refuses.
        let put = 'never refused'
        let failedAt = -1
        for (let i = 0; i < 64 && failedAt < 0; i++) {
          put = await codeOf(adapter.put(['fill', String(i)], new Uint8Array(1 << 20).fill(i)))
          if (put !== 'resolved') failedAt = i
        }
        const stream = await codeOf(
          adapter.putStream(
            ['blob'],
            (async function* () {
              for (let i = 0; i < 8; i++) yield new Uint8Array(1 << 20).fill(i)
            })(),
          ),
        )
        const result = {
          put,
          stream,
          failedAbsent: (await adapter.get(['fill', String(failedAt)])) === undefined,
          blobAbsent: (await adapter.getStream(['blob'])) === undefined,
          small: [...((await adapter.get(['small'])) ?? [])],
          // Erasing must work on a full store: it is how the user gets space back.
          erase: await codeOf(adapter.deletePrefix(['fill'])),
        }
        await adapter.close()
        return result
      })
      expect(outcome).toEqual({
        put: 'full',
        stream: 'full',
        failedAbsent: true,
        blobAbsent: true,
        small: [1, 2, 3],
        erase: 'resolved',
      })
    } finally {
      await cdp.send('Storage.overrideQuotaForOrigin', { origin })
      await page.close()
    }
  }, 60_000)
})
