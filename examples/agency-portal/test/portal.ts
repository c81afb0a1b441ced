import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defaultVerifier, Relay, silentLogger } from '@valv/relay'
import { FsStorageAdapter } from '@valv/storage-fs'
import { launchChromium } from '@valv/test-utils/chromium'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { build, type PreviewServer, preview } from 'vite'

const portal = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
)

/** The whole stack of the demo: the real relay on a filesystem store, the built portal, Chromium. */
export interface Stack {
  readonly url: string
  readonly dataDir: string
  readonly browser: Browser
  /** Stop the relay (its store stays), as in an outage. */
  stopRelay?(): Promise<void>
  /** Start the relay again on the same port and store. */
  startRelay?(): Promise<void>
  close(): Promise<void>
}

/** Start the relay on a free loopback port, build and serve the portal, launch headless Chromium. */
export async function startStack(): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'valv-portal-relay-'))
  const newRelay = () =>
    new Relay({
      storage: new FsStorageAdapter({ directory: dataDir }),
      verifier: defaultVerifier(),
      logger: silentLogger,
    })
  let relay: Relay | undefined = newRelay()
  const { port: relayPort } = await relay.listen(0, '127.0.0.1')
  const outDir = mkdtempSync(join(tmpdir(), 'valv-portal-dist-'))
  const configFile = join(portal, 'vite.config.ts')
  await build({ configFile, logLevel: 'error', build: { outDir, emptyOutDir: true } })
  const server: PreviewServer = await preview({
    configFile,
    logLevel: 'error',
    build: { outDir },
    preview: { port: 0, host: '127.0.0.1', strictPort: false },
    plugins: [
      {
        name: 'valv-relay-config',
        configurePreviewServer(s) {
          s.middlewares.use('/config.json', (_req, res) => {
            res.setHeader('content-type', 'application/json')
            res.end(JSON.stringify({ relayUrl: `ws://127.0.0.1:${relayPort}` }))
          })
        },
      },
    ],
  })
  const address = server.httpServer.address()
  const port = typeof address === 'object' && address ? address.port : 0
  const browser = await launchChromium()
  return {
    url: `http://127.0.0.1:${port}/`,
    dataDir,
    browser,
    async stopRelay() {
      await relay?.close()
      relay = undefined
    },
    async startRelay() {
      if (relay !== undefined) return
      relay = newRelay()
      await relay.listen(relayPort, '127.0.0.1')
    },
    async close() {
      await browser.close()
      await server.close()
      await relay?.close()
      rmSync(outDir, { recursive: true, force: true })
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** A user in their own browser context (own IndexedDB, own identity). */
export interface User {
  readonly context: BrowserContext
  page: Page
}

const PASSPHRASE = 'korrekt häst batteri'

/** Go to `url` in a page whose profile holds a vault, and unlock it with the passphrase. */
export async function visit(page: Page, url: string): Promise<void> {
  await page.goto(url)
  await page.locator('#unlock-h').waitFor()
  await page.getByLabel(/^(Lösenfras|Passphrase)$/).fill(PASSPHRASE)
  await page.getByRole('button', { name: /^(Lås upp|Unlock)$/ }).click()
  await page.locator('#unlock-h').waitFor({ state: 'detached', timeout: 30_000 })
}

/** Open a fresh context at `url` and create an identity named `name`. */
export async function newUser(stack: Stack, name: string, url = stack.url): Promise<User> {
  const context = await stack.browser.newContext()
  const page = await context.newPage()
  page.on('dialog', (d) => void d.accept())
  await page.goto(url)
  await page.getByLabel(/^(Namn|Name)$/).fill(name)
  await page
    .getByLabel(/Lösenfras|Passphrase/)
    .first()
    .fill(PASSPHRASE)
  await page.getByRole('button', { name: /Skapa identitet|Create identity/ }).click()
  await page.locator('#create-h').waitFor({ state: 'detached', timeout: 30_000 })
  return { context, page }
}

/** Create a document of `kind` in the drive and return its id. */
export async function createDoc(user: User, kind: string, title: string): Promise<string> {
  const { page } = user
  await page.getByRole('link', { name: /^(Dokument|Documents)$/ }).click()
  await page.locator('#new-title').fill(title)
  await page.locator('#new-kind').selectOption(kind)
  await page.getByRole('button', { name: /Nytt dokument|New document/ }).click()
  await page.getByRole('heading', { name: title, level: 1 }).waitFor()
  return new URL(page.url()).searchParams.get('doc') as string
}

/** As admin, create an invite link for `role` (a value of `Role`) from the share dialog. */
export async function inviteLink(user: User, role: number): Promise<string> {
  const { page } = user
  await page.getByRole('button', { name: /^(Dela|Share)$/ }).click()
  await page.locator('#invite-role').selectOption(String(role))
  await page.getByRole('button', { name: /Skapa inbjudningslänk|Create invite link/ }).click()
  const link = page.locator('#invite-link')
  await link.waitFor()
  await page.waitForFunction(
    () =>
      (document.querySelector('#invite-link') as HTMLInputElement | null)?.value ||
      document.querySelector('dialog .error')?.textContent,
    undefined,
    { timeout: 20_000 },
  )
  const value = await link.inputValue()
  await page.getByRole('button', { name: /^(Stäng|Close)$/ }).click()
  return value
}

/** Serious and critical axe-core violations on the current page. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the debugging protocol, not as an inline <script>: the portal's CSP
  // (no inline scripts) would refuse that.
  await page.evaluate(axeSource)
  const result = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: () => Promise<unknown> } }).axe
    return (await axe.run()) as { violations: { id: string; impact: string; nodes: unknown[] }[] }
  })
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}, ${v.nodes.length} nodes)`)
}

/** Every file below `dir`, concatenated (for the canary scan of the relay's store). */
export function readAll(dir: string): Buffer {
  const parts: Buffer[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else parts.push(readFileSync(p))
    }
  }
  walk(dir)
  return Buffer.concat(parts)
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

/**
 * Screenshot `page` as `name` into `artifacts/` (CI uploads it) and, with
 * `VALV_DOCS_SCREENSHOTS=1`, into `docs/images/`, where the README and the guides show it.
 */
export async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  const png = await page.screenshot({ fullPage })
  const dirs = [join(ROOT, 'artifacts')]
  if (process.env.VALV_DOCS_SCREENSHOTS === '1') dirs.push(join(ROOT, 'docs/images'))
  for (const dir of dirs) {
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, name), png)
  }
}
