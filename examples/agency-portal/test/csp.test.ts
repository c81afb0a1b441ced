import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { launchChromium } from '@valv/test-utils/chromium'
import { cleanup, startStack } from '@valv/test-utils/stack'
import type { Browser, BrowserContext } from 'playwright-core'
import { build, createServer, type PreviewServer, preview, type ViteDevServer } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDoc, newUser, type Stack } from './portal.js'

// The portal under its Content-Security-Policy (../csp.ts), built for a relay named at build
// time as a deployment would: it must load and work with no violation reported, and the policy
// must really be enforced (an inline script and a socket to another server are refused).

const portal = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const configFile = join(portal, 'vite.config.ts')

let relayUrl = ''
let browser: Browser
let outDir = ''
let server: PreviewServer | undefined
let dev: ViteDevServer | undefined

beforeAll(async () => {
  relayUrl = (await startStack()).url
  // What a deployment sets: the portal connects there, and the CSP allows only there. (This
  // test file runs in its own process, so the variable reaches no other test.)
  process.env.VITE_VALV_RELAY_URL = relayUrl
  browser = await launchChromium()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await server?.close()
  await dev?.close()
  await cleanup()
  if (outDir) rmSync(outDir, { recursive: true, force: true })
})

/** A context whose pages record every CSP violation and every CSP console message. */
async function watchedContext(violations: string[] = []): Promise<{
  context: BrowserContext
  violations: string[]
}> {
  const context = await browser.newContext()
  await context.exposeFunction('reportViolation', (v: string) => violations.push(v))
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (window as unknown as { reportViolation(v: string): void }).reportViolation
      report(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'}`)
    })
  })
  context.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) violations.push(`console: ${m.text()}`)
  })
  return { context, violations }
}

/** The helpers of portal.ts want a stack: the served portal, and contexts that are watched. */
function stackAt(url: string, violations: string[]): Stack {
  const watched = {
    newContext: async () => (await watchedContext(violations)).context,
  } as unknown as Browser
  return { url, browser: watched, dataDir: '', close: async () => {} }
}

describe('the agency portal under a strict Content-Security-Policy', () => {
  it('the build carries the policy, works with it, and the policy is enforced', async () => {
    outDir = mkdtempSync(join(tmpdir(), 'valv-portal-csp-'))
    await build({ configFile, logLevel: 'error', build: { outDir, emptyOutDir: true } })
    const html = readFileSync(join(outDir, 'index.html'), 'utf8')
    const policy =
      /http-equiv="Content-Security-Policy" content="([^"]+)"/
        .exec(html)?.[1]
        ?.replaceAll('&#39;', "'") ?? ''
    expect(policy).toContain("script-src 'self';")
    expect(policy).toContain(`connect-src 'self' ${relayUrl};`)
    expect(policy).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/)
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/) // no inline script left to allow

    server = await preview({
      configFile,
      logLevel: 'error',
      build: { outDir },
      preview: { port: 0, host: '127.0.0.1' },
    })
    const address = server.httpServer.address()
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`
    const { context, violations } = await watchedContext()
    const page = await context.newPage()
    const header = (await page.goto(url))?.headers()['content-security-policy'] ?? ''
    expect(header).toContain("frame-ancestors 'none'")
    await context.close()

    // Create an identity, a text document (the relay connection), type; then a sheet.
    const anna = await newUser(stackAt(url, violations), 'Anna')
    await createDoc(anna, 'text', 'Under CSP')
    const editor = anna.page.getByRole('textbox', { name: /Dokumenttext|Document text/ })
    await editor.click()
    await editor.pressSequentially('skyddad text')
    await expect.poll(() => editor.textContent()).toContain('skyddad text')
    await createDoc(anna, 'sheet', 'Budget under CSP')
    expect(violations).toEqual([])

    // Enforced: an injected inline script does not run, a socket elsewhere is refused.
    const { context: probe, violations: seen } = await watchedContext()
    const p = await probe.newPage()
    await p.goto(url)
    const ran = await p.evaluate(async () => {
      const s = document.createElement('script')
      s.textContent = 'window.inlineRan = true'
      document.head.append(s)
      try {
        new WebSocket('ws://127.0.0.1:9/elsewhere').close()
      } catch {
        // Chromium may throw as well as report.
      }
      await new Promise((r) => setTimeout(r, 200))
      return (window as unknown as { inlineRan?: boolean }).inlineRan === true
    })
    expect(ran).toBe(false)
    await expect
      .poll(() => seen.filter((v) => !v.startsWith('console')).map((v) => v.split(' ')[0]))
      .toEqual(expect.arrayContaining(['script-src-elem', 'connect-src']))
    await probe.close()
    await anna.context.close()
  }, 180_000)

  it('the dev server sends the policy and the portal starts under it', async () => {
    dev = await createServer({
      configFile,
      logLevel: 'error',
      server: { port: 0, host: '127.0.0.1' },
    })
    await dev.listen()
    const address = dev.httpServer?.address()
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`
    const { context, violations } = await watchedContext()
    const page = await context.newPage()
    const header = (await page.goto(url))?.headers()['content-security-policy'] ?? ''
    expect(header).toContain("script-src 'self';")
    expect(header).toContain(`connect-src 'self' ${relayUrl};`)
    await page.locator('#create-h').waitFor({ timeout: 60_000 })
    expect(violations).toEqual([])
    await context.close()
  }, 120_000)
})
