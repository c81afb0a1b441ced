/**
 * At rest on a device (issue 12, item 12): someone copies the browser profile (a stolen laptop,
 * a backup, a synced home directory) but does not know the passphrase. They must get no key and
 * no document title. Runs the portal's own keychain and drive list on the SDK's DeviceVault in
 * real headless Chromium, then reads the profile both through the browser (every IndexedDB
 * record and localStorage value) and as raw files on disk.
 */
import { randomBytes } from 'node:crypto'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { launchPersistentChromium } from '@valv/test-utils/chromium'
import { build } from 'esbuild'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AtRestApi } from './at-rest-page.js'

const root = resolve(import.meta.dirname, '..', '..')
const PASSPHRASE = 'korrekt häst batteri'
const TITLE = 'Hemlig titel omorganisation 2027'
declare const atRest: AtRestApi

let server: Server
let url = ''
const profiles: string[] = []
const exits: (() => Promise<unknown>)[] = []
const onExit = (fn: () => Promise<unknown>) => exits.push(fn)

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [join(import.meta.dirname, 'at-rest-page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'valv-sources',
        setup(b) {
          b.onResolve({ filter: /^@valv\/[^/]+$/ }, (a) => ({
            path: join(root, 'packages', a.path.slice('@valv/'.length), 'src', 'index.ts'),
          }))
        },
      },
    ],
  })
  const js = bundle.outputFiles[0]?.text ?? ''
  server = createServer((req, res) => {
    if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js)
    else
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>')
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
}, 60_000)

afterAll(async () => {
  for (const c of exits.splice(0)) await c().catch(() => undefined)
  server?.closeAllConnections()
  await new Promise((done) => server?.close(done))
  for (const p of profiles) rmSync(p, { recursive: true, force: true })
})

async function open(profile: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await launchPersistentChromium(profile)
  onExit(() => context.close())
  const page = await context.newPage()
  await page.goto(url)
  await page.waitForFunction(() => 'atRest' in globalThis, undefined, { timeout: 30_000 })
  return { context, page }
}

/** Every file below `dir`, raw. */
function files(dir: string): Buffer[] {
  const out: Buffer[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...files(p))
    else if (e.isFile() && statSync(p).size < 64 << 20) out.push(readFileSync(p))
  }
  return out
}

/** The forms a secret could take on disk: raw, hex, base64. */
function forms(b64: string): Buffer[] {
  const raw = Buffer.from(b64, 'base64')
  return [raw, Buffer.from(raw.toString('hex')), Buffer.from(b64.replace(/=+$/, ''))]
}
const inFiles = (blobs: Buffer[], b64: string) =>
  blobs.some((f) => forms(b64).some((x) => f.includes(x)))
const inDump = (dump: string[], b64: string) => {
  const needle = Buffer.from(b64, 'base64')
  return dump.some((d) => Buffer.from(d, 'base64').includes(needle))
}
const utf8b64 = (s: string) => Buffer.from(s).toString('base64')

describe('at rest: a copied browser profile without the passphrase', () => {
  it('holds no secret key bytes and no title, and opens only with the passphrase', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'valv-at-rest-'))
    profiles.push(profile)
    const canary = randomBytes(32).toString('base64')
    const first = await open(profile)
    const made = await first.page.evaluate(([p, t, c]) => atRest.setup(p, t, c, false), [
      PASSPHRASE,
      TITLE,
      canary,
    ] as const)
    expect(made.titles).toEqual([TITLE])
    expect(made.secrets).toHaveLength(5)

    // Through the browser: every IndexedDB record and localStorage value.
    const dump = await first.page.evaluate(() => atRest.dump())
    expect(inDump(dump, canary)).toBe(true) // the control is visible
    for (const s of made.secrets) expect(inDump(dump, s)).toBe(false)
    expect(inDump(dump, utf8b64('Hemlig titel'))).toBe(false)
    expect(inDump(dump, utf8b64(PASSPHRASE))).toBe(false)
    await first.context.close()

    // On disk: the profile's files, as a thief copies them.
    const stolen = mkdtempSync(join(tmpdir(), 'valv-at-rest-copy-'))
    profiles.push(stolen)
    cpSync(profile, stolen, { recursive: true })
    const blobs = files(stolen)
    expect(inFiles(blobs, canary)).toBe(true) // the control is visible on disk
    for (const s of made.secrets) expect(inFiles(blobs, s)).toBe(false)
    expect(blobs.some((f) => f.includes(Buffer.from('Hemlig titel')))).toBe(false)
    expect(blobs.some((f) => f.includes(Buffer.from('Hemlig titel', 'utf16le')))).toBe(false)

    // The copied profile opens only with the passphrase: a wrong one is a typed error.
    const thief = await open(stolen)
    expect(await thief.page.evaluate((p) => atRest.unlock(p), 'fel lösenfras 1')).toBe(
      'CryptoError:bad-passphrase',
    )
    expect(await thief.page.evaluate((p) => atRest.unlock(p), PASSPHRASE)).toBe(made.userId)
    await thief.context.close()
  }, 180_000)

  it('moves a drive list an older portal left in localStorage into the vault', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'valv-at-rest-'))
    profiles.push(profile)
    const { context, page } = await open(profile)
    const made = await page.evaluate(([p, t]) => atRest.setup(p, t, btoa('control'), true), [
      PASSPHRASE,
      TITLE,
    ] as const)
    expect(made.titles.sort()).toEqual([TITLE, `${TITLE} (gammal)`])
    const dump = await page.evaluate(() => atRest.dump())
    expect(inDump(dump, utf8b64('Hemlig titel'))).toBe(false)
    await context.close()
  }, 120_000)
})
