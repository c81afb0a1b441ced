import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MembershipState, verifyEnvelope } from '@valv/protocol'
import { LocalRelay } from '@valv/test-utils'
import { launchChromium } from '@valv/test-utils/chromium'
import * as esbuild from 'esbuild'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DocumentSession, Identity, PublicCard, Role } from '../src/index.js'
import { type PageApi, pageApi } from './browser/page.js'

const here = dirname(fileURLToPath(import.meta.url))
const packagesDir = resolve(here, '..', '..')
const text = (s: string) => new TextEncoder().encode(s)
const str = (b: Uint8Array) => new TextDecoder().decode(b)
const bytes = (a: number[]) => Uint8Array.from(a)
const arr = (b: Uint8Array) => Array.from(b)

/** `@valv/<pkg>` resolves to the package's sources, as in vitest and tsconfig. */
const valvSources: esbuild.Plugin = {
  name: 'valv-sources',
  setup(build) {
    build.onResolve({ filter: /^@valv\/[^/]+$/ }, (args) => ({
      path: join(packagesDir, args.path.slice('@valv/'.length), 'src', 'index.ts'),
    }))
  },
}

async function bundle(): Promise<esbuild.BuildResult & { metafile: esbuild.Metafile }> {
  return esbuild.build({
    entryPoints: [join(here, 'browser', 'page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [valvSources],
  })
}

function serve(script: string): Promise<Server> {
  const html = '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>'
  const server = createServer((req, res) => {
    if (req.url === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' })
      res.end(script)
    } else {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(html)
    }
  })
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)))
}

type Api = PageApi
declare const valv: Api

describe('@valv/crypto in headless Chromium', () => {
  let build: Awaited<ReturnType<typeof bundle>>
  let server: Server
  let browser: Browser
  let page: Page
  const pageErrors: string[] = []

  beforeAll(async () => {
    build = await bundle()
    const script = build.outputFiles?.[0]?.text ?? ''
    server = await serve(script)
    browser = await launchChromium()
    page = await browser.newPage()
    page.on('pageerror', (err) => pageErrors.push(err.message))
    const { port } = server.address() as AddressInfo
    await page.goto(`http://127.0.0.1:${port}/`)
    await page.waitForFunction(() => 'valv' in globalThis, undefined, { timeout: 30_000 })
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)))
  })

  it('bundles for the browser with no Node built-in and no external module', () => {
    expect(build.errors).toEqual([])
    const inputs = Object.keys(build.metafile.inputs)
    expect(inputs.some((p) => p.includes('packages/crypto/src/session.ts'))).toBe(true)
    expect(inputs.some((p) => p.includes('packages/protocol/src/'))).toBe(true)
    expect(
      inputs.filter((p) => p.startsWith('node:') || p.includes('/node_modules/@types/')),
    ).toEqual([])
    const output = Object.values(build.metafile.outputs)[0]
    const externals = (output?.imports ?? []).filter((i) => i.external).map((i) => i.path)
    expect(externals).toEqual([])
    const script = build.outputFiles?.[0]?.text ?? ''
    expect(script).not.toMatch(/\brequire\(["']/)
    console.info(`page bundle: ${(script.length / 1024).toFixed(0)} KiB, ${inputs.length} inputs`)
  })

  it('runs share, roles, unshare + rotation, invites, passphrase export and recovery', async () => {
    const r = await page.evaluate(() => valv.scenario())
    expect(pageErrors).toEqual([])
    expect(r.userAgent).toMatch(/Chrome\//)
    expect(r.boToAnna).toBe('epoch 0 from bo')
    expect(r.annaToCy).toBe('epoch 0 from anna')
    expect(r.viewerWrite).toBe('not-authorised')
    expect(r.epochAfterUnshare).toBe(1)
    expect(r.removedReads).toBe('unknown-epoch')
    expect(r.stayingReads).toBe('epoch 1')
    expect(r.removedWrite).toBe('not-authorised')
    expect(r.removedSeal).toBe('unknown-epoch')
    expect(r.boRole).toBe(Role.None)
    expect(r.linkIsFragment).toBe(true)
    expect(r.dagRole).toBe(Role.Editor)
    expect(r.dagToAnna).toBe('epoch 2 from dag')
    expect(r.importedSameUser).toBe(true)
    expect(r.wrongPassphrase).toBe('bad-passphrase')
    expect(r.recovered).toEqual(['epoch 0 from anna', 'epoch 1', 'epoch 2 from dag'])
    expect(r.members).toEqual([
      ['Anna', Role.Admin],
      ['Bo', Role.None],
      ['Cy', Role.Viewer],
      ['Dag', Role.Editor],
    ])
  })

  it('the same scenario gives the same outcomes in Node', async () => {
    const inPage = await page.evaluate(() => valv.scenario())
    const inNode = await pageApi.scenario()
    const { userAgent: _a, nativeEd25519: _b, ...pageOutcome } = inPage
    const { userAgent: _c, nativeEd25519: _d, ...nodeOutcome } = inNode
    expect(nodeOutcome).toEqual(pageOutcome)
  })

  it('refuses every single-bit flip of an envelope in the page', async () => {
    const r = await page.evaluate(() => valv.tamper())
    expect(r.good).toBe('integrity in Chromium')
    const refused = Object.entries(r.codes).filter(([code]) => code !== 'accepted')
    expect(r.codes.accepted).toBeUndefined()
    expect(refused.reduce((n, [, k]) => n + k, 0)).toBe(r.length * 2)
    expect(refused.every(([code]) => !code.startsWith('not a CryptoError'))).toBe(true)
  })

  it('encrypts and decrypts a 1 MiB file with browser streams; truncation is refused', async () => {
    const r = await page.evaluate(() => valv.files(1 << 20))
    expect(r.same).toBe(true)
    expect(r.blobId).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(r.sealedLength).toBeGreaterThan(1 << 20)
    expect(['decrypt-failed', 'truncated']).toContain(r.truncated)
  })

  it('measures seal, open and Ed25519 verification in the page and in Node', async () => {
    const n = 200
    const inPage = await page.evaluate((k) => valv.measure(k), n)
    const inNode = await pageApi.measure(n)
    for (const r of [inPage, inNode]) {
      expect([r.ok, r.nobleOk, r.nativeOk]).toEqual([n, n, n])
    }
    const f = (x: number) => x.toFixed(3)
    for (const [where, r] of [
      ['chromium', inPage],
      ['node', inNode],
    ] as const) {
      console.info(
        `${where}: 1 KiB seal ${f(r.sealMs)} ms, open ${f(r.openMs)} ms; Ed25519 verify noble ${f(r.nobleVerifyMs)} ms, WebCrypto ${f(r.nativeVerifyMs)} ms`,
      )
    }
  })

  it('reports which Ed25519 path the page uses (WebCrypto when Chromium has it)', async () => {
    const native = await page.evaluate(() => valv.nativeEd25519())
    // Chromium ships WebCrypto Ed25519 since 137; the fast path must be taken there.
    const major = Number(browser.version().split('.')[0])
    console.info(`chromium ${browser.version()}: WebCrypto Ed25519 ${native ? 'yes' : 'no'}`)
    if (major >= 137) expect(native).toBe(true)
    else expect(typeof native).toBe('boolean')
  })

  it('bytes made in the browser verify and open in Node, and a Node reply opens there', async () => {
    const nodeUser = await Identity.create({ displayName: 'Nils' })
    const made = await page.evaluate((card) => valv.makeForNode(card), nodeUser.card.toString())
    const chain = made.chain.map(bytes)
    const envelope = bytes(made.envelope)
    // Public verification, as a relay would do it.
    const state = new MembershipState(made.docId)
    for (const e of chain) state.append(e)
    expect(state.epoch).toBe(1)
    const verified = verifyEnvelope(state, envelope, { kind: 'update' })
    expect(verified.authorId).toBe(made.author)
    expect(verified.counter).toBe(7)
    // Full open by the Node member, which then joins and answers.
    const relay = new LocalRelay()
    relay.chains.set(made.docId, { state, entries: [...chain] })
    const nils = await DocumentSession.open(nodeUser, made.docId)
    await relay.connect(nils)
    await nils.joined()
    expect(nils.role).toBe(Role.Editor)
    expect(str((await nils.open('update', envelope)).plaintext)).toBe('hej från Chromium')
    const joinIndex = nils.membershipLength() - 1
    const joinEntry = relay.chains.get(made.docId)?.entries[joinIndex] as Uint8Array
    const reply = await nils.seal('update', text('hej från Node'), 1)
    const back = await page.evaluate(([i, e, r]) => valv.openReply(i, e, r), [
      joinIndex,
      arr(joinEntry),
      arr(reply),
    ] as [number, number[], number[]])
    expect(back).toEqual({ plaintext: 'hej från Node', counter: 1, author: nils.author })
    // The browser's scrypt export imports in Node.
    const eva = await Identity.import(made.backup, 'export från webbläsaren')
    expect(eva.userId).toBe(made.userId)
  })

  it('bytes made in Node verify and open in the browser', async () => {
    const card = await page.evaluate(() => valv.makeIdentity())
    const relay = new LocalRelay()
    const olle = await Identity.create({ displayName: 'Olle' })
    const admin = await DocumentSession.create(olle)
    await relay.connect(admin)
    await admin.share(PublicCard.parse(card), Role.Viewer)
    await admin.rotate()
    const envelope = await admin.seal('update', text('hej från Node till Chromium'), 3)
    const chain = (relay.chains.get(admin.docId)?.entries ?? []).map(arr)
    const r = await page.evaluate(([d, c, e]) => valv.openFromNode(d, c, e), [
      admin.docId,
      chain,
      arr(envelope),
    ] as [string, number[][], number[]])
    expect(r).toEqual({
      publicAuthor: admin.author,
      epoch: 1,
      plaintext: 'hej från Node till Chromium',
      flippedSignature: 'bad-signature',
    })
    expect(pageErrors).toEqual([])
  })
})
