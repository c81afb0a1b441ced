import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { launchChromium } from '@valv/test-utils/chromium'
import { cleanup, startStack } from '@valv/test-utils/stack'
import { build, preview } from 'vite'
import { expect, it } from 'vitest'

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..')

it('the 30-line example shares an encrypted textarea between two browsers', async () => {
  const relayUrl = (await startStack()).url
  const outDir = mkdtempSync(join(tmpdir(), 'valv-minimal-'))
  const configFile = join(here, 'vite.config.ts')
  await build({ configFile, logLevel: 'error', build: { outDir, target: 'es2022' } })
  const server = await preview({
    configFile,
    logLevel: 'error',
    build: { outDir },
    preview: { port: 0 },
  })
  const address = server.httpServer.address()
  const browser = await launchChromium()
  try {
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`
    // The page runs under the example's CSP (../csp.ts): nothing it does may be refused.
    const violations: string[] = []
    const watched = async () => {
      const context = await browser.newContext()
      context.on('console', (m) => {
        if (/Content.Security.Policy/i.test(m.text())) violations.push(`console: ${m.text()}`)
      })
      await context.exposeFunction('reportViolation', (v: string) => violations.push(v))
      await context.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) =>
          (window as unknown as { reportViolation(v: string): void }).reportViolation(
            `${e.effectiveDirective} blocked ${e.blockedURI || 'inline'}`,
          ),
        )
      })
      return context
    }
    const a = await (await watched()).newPage()
    const csp = (await a.goto(`${url}?relay=${relayUrl}`))?.headers()
    expect(csp?.['content-security-policy']).toContain("script-src 'self';")
    await expect
      .poll(() => a.locator('#link').textContent(), { timeout: 20_000 })
      .toContain('#valv-invite1.')
    const b = await (await watched()).newPage()
    const errors: string[] = []
    for (const page of [a, b]) page.on('pageerror', (e) => errors.push(e.message))
    await b.goto((await a.locator('#link').textContent()) as string)
    await a.locator('#text').pressSequentially('hej från A')
    await expect
      .poll(() => b.locator('#text').inputValue(), { timeout: 40_000 })
      .toBe('hej från A')
      .catch((e: Error) => {
        throw new Error(`${e.message}; page errors: ${errors.join(' | ')}`)
      })
    await b.locator('#text').press('End')
    await b.locator('#text').pressSequentially(' och B')
    await expect
      .poll(() => a.locator('#text').inputValue(), { timeout: 20_000 })
      .toBe('hej från A och B')
    expect(violations).toEqual([])
  } finally {
    await browser.close()
    await server.close()
    await cleanup()
    rmSync(outDir, { recursive: true, force: true })
  }
}, 90_000)
