import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { build } from 'esbuild'
import { type BrowserContext, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const args = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const root = resolve(import.meta.dirname, '..', '..')

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

describe('IndexedDBStorageAdapter in headless Chromium', () => {
  let server: Server
  let url: string
  let profile: string
  const contexts: BrowserContext[] = []
  const launch = async () => {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      args,
    })
    contexts.push(context)
    return context
  }

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [join(root, 'storage-indexeddb', 'src', 'index.ts')],
      bundle: true,
      format: 'iife',
      globalName: 'valvIdb',
      platform: 'browser',
      target: 'es2022',
      write: false,
      alias: { '@valv/storage': join(root, 'storage', 'src', 'index.ts') },
    })
    const js = bundle.outputFiles[0]!.text
    expect(js).not.toMatch(/require\(["']node:/)
    server = createServer((req, res) => {
      if (req.url === '/adapter.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(js)
      } else {
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end('<!doctype html><script src="/adapter.js"></script>')
      }
    })
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    profile = mkdtempSync(join(tmpdir(), 'valv-chromium-'))
  })
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined)
    await new Promise((done) => server?.close(done))
    if (profile) rmSync(profile, { recursive: true, force: true })
  })

  it('puts, lists, streams (50 MiB) and erases in the page; data survives a reload and a browser restart', async () => {
    const blobBytes = 50 * (1 << 20) + 12345
    let context = await launch()
    let page = await context.newPage()
    await page.goto(url)
    const report = await page.evaluate(exercise, blobBytes)
    expect(report).toEqual({
      children: ['a', 'a-b'],
      listed: ['doc/a/log/0005', 'doc/a/log/0006', 'doc/a/log/0007'],
      values: [[5], [6], [7]],
      blobSize: blobBytes,
      blobSum: expectedSum(blobBytes),
      afterDelete: [],
      deletedStream: true,
    })
    const expected = { log: 20, a: [7], blob: blobBytes }
    await page.reload()
    expect(await page.evaluate(readBack)).toEqual(expected)
    await context.close()
    context = await launch()
    page = await context.newPage()
    await page.goto(url)
    expect(await page.evaluate(readBack)).toEqual(expected)
  }, 60_000)
})
