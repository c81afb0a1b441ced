import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { launchPersistentChromium } from '@valv/test-utils/chromium'
import { build } from 'esbuild'
import type { BrowserContext, Page } from 'playwright-core'

const root = resolve(import.meta.dirname, '..', '..')

/** A page in real headless Chromium with the adapter and the RPC shim (`browser/rpc.ts`). */
export interface ChromiumPage {
  /** The current page (replaced by `restart`). */
  page: Page
  /** Its URL, for reloads. */
  readonly url: string
  /** The browser profile directory (IndexedDB files live below it). */
  readonly profile: string
  /** Close the browser and start it again on the same profile (IndexedDB persists). */
  restart(): Promise<void>
  /** Close the browser, the server and remove the profile. */
  stop(): Promise<void>
}

/** Bundle the adapter for the browser, serve it on loopback and open it in Chromium. */
export async function startChromiumPage(): Promise<ChromiumPage> {
  const bundle = await build({
    entryPoints: [join(import.meta.dirname, 'browser', 'rpc.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    alias: { '@valv/storage': join(root, 'storage', 'src', 'index.ts') },
  })
  const js = bundle.outputFiles[0]!.text
  if (/require\(["']node:/.test(js)) throw new Error('the browser bundle needs Node built-ins')
  const server = createServer((req, res) => {
    if (req.url === '/adapter.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(js)
    } else {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><script src="/adapter.js"></script>')
    }
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  const profile = mkdtempSync(join(tmpdir(), 'valv-chromium-'))
  let context: BrowserContext
  const launch = async () => {
    context = await launchPersistentChromium(profile)
    const page = await context.newPage()
    await page.goto(url)
    return page
  }
  const handle: ChromiumPage = {
    page: await launch(),
    url,
    profile,
    async restart() {
      await context.close()
      handle.page = await launch()
    },
    async stop() {
      await context?.close().catch(() => undefined)
      await new Promise((done) => server.close(done))
      rmSync(profile, { recursive: true, force: true })
    },
  }
  return handle
}
