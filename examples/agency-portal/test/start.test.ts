import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { launchChromium } from '@valv/test-utils/chromium'
import { afterAll, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createDoc, newUser } from './portal.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const dataDir = mkdtempSync(join(tmpdir(), 'valv-start-'))
let child: ChildProcess | undefined

afterAll(() => {
  child?.kill('SIGTERM')
  rmSync(dataDir, { recursive: true, force: true })
})

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => ok(port))
    })
  })
}

it('`npm start` builds, starts the relay on an fs store, serves the portal and prints its URL', async () => {
  const [portalPort, relayPort] = [await freePort(), await freePort()]
  child = spawn(process.execPath, ['examples/agency-portal/scripts/start.mjs'], {
    cwd: root,
    env: {
      ...process.env,
      VALV_PORTAL_PORT: String(portalPort),
      VALV_RELAY_PORT: String(relayPort),
      VALV_DATA: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.on('data', (b: Buffer) => {
    out += b
  })
  child.stderr?.on('data', (b: Buffer) => {
    out += b
  })
  const end = Date.now() + 170_000
  while (!out.includes('Agency portal:')) {
    if (Date.now() > end || child.exitCode !== null) throw new Error(`npm start failed:\n${out}`)
    await new Promise((r) => setTimeout(r, 200))
  }
  expect(out).toContain(`Agency portal: http://127.0.0.1:${portalPort}/`)
  expect(out).toMatch(/Building the agency portal \(Vite\) … done in/)

  const html = await (await fetch(`http://127.0.0.1:${portalPort}/?doc=x`)).text()
  expect(html).toContain('<div id="app">')
  const config = await (await fetch(`http://127.0.0.1:${portalPort}/config.json`)).json()
  expect(config).toEqual({ relayUrl: `ws://127.0.0.1:${relayPort}` })
  expect(await (await fetch(`http://127.0.0.1:${relayPort}/healthz`)).text()).toMatch(/^ok\s*$/)
  // The relay accepts WebSocket connections (the portal's sync goes here).
  const ws = new WebSocket(`ws://127.0.0.1:${relayPort}`)
  await new Promise((ok, fail) => {
    ws.once('open', ok)
    ws.once('error', fail)
  })
  ws.close()

  // And the served portal works end to end against that relay, in a real browser.
  const browser = await launchChromium()
  try {
    const url = `http://127.0.0.1:${portalPort}/`
    const user = await newUser({ url, browser, dataDir, close: async () => {} }, 'Greta')
    await createDoc(user, 'text', 'Startprov')
    await expect
      .poll(() => user.page.getByTestId('sync-status').textContent(), { timeout: 20_000 })
      .toMatch(/Ansluten/)
  } finally {
    await browser.close()
  }
  // The new text document and its comments document, on disk.
  expect(readdirSync(join(dataDir, 'docs')).length).toBe(2)

  const exited = new Promise<number | null>((ok) => child?.once('exit', ok))
  child.kill('SIGTERM')
  expect(await exited).toBe(0)
  child = undefined
}, 180_000)
