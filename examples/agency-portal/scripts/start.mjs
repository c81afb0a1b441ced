// `npm start` at the repository root: build the relay (and what it imports), build the portal,
// then run the relay with an embedded filesystem store under ./data and serve the portal.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const portal = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const root = resolve(portal, '../..')
const RELAY_PACKAGES = ['protocol', 'wire', 'storage', 'storage-fs', 'relay']
const host = process.env.VALV_HOST ?? '127.0.0.1'
const port = Number(process.env.VALV_PORTAL_PORT ?? 5173)
const relayPort = Number(process.env.VALV_RELAY_PORT ?? 8080)
const dataDir = resolve(root, process.env.VALV_DATA ?? 'data')

/** Run `fn` while printing elapsed seconds, so slow steps never look hung. */
async function step(label, fn) {
  const start = Date.now()
  const tty = process.stdout.isTTY
  const tick = () => `${label} … ${((Date.now() - start) / 1000).toFixed(0)} s`
  process.stdout.write(tty ? tick() : `${label} …\n`)
  const timer = setInterval(() => {
    if (tty) process.stdout.write(`\r${tick()}`)
    else if ((Date.now() - start) % 5000 < 1000) process.stdout.write(`  ${tick()}\n`)
  }, 1000)
  try {
    const result = await fn()
    clearInterval(timer)
    const took = ((Date.now() - start) / 1000).toFixed(1)
    process.stdout.write(`${tty ? '\r' : ''}${label} … done in ${took} s\n`)
    return result
  } catch (err) {
    clearInterval(timer)
    process.stdout.write(`\n${label} failed\n`)
    throw err
  }
}

function newestMtime(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

function stale(name) {
  const out = join(root, 'packages', name, 'dist', 'index.js')
  if (!existsSync(out)) return true
  return newestMtime(join(root, 'packages', name, 'src')) > statSync(out).mtimeMs
}

function run(cmd, args, env) {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: 'pipe' })
    let log = ''
    child.stdout.on('data', (b) => {
      log += b
    })
    child.stderr.on('data', (b) => {
      log += b
    })
    child.on('error', fail)
    child.on('exit', (code) =>
      code === 0 ? ok() : fail(new Error(`${cmd} ${args.join(' ')} failed:\n${log}`)),
    )
  })
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
}

function servePortal(dist) {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://portal')
    if (url.pathname === '/config.json') {
      const hostname = (req.headers.host ?? host).replace(/:\d+$/, '')
      res.writeHead(200, { 'content-type': TYPES['.json'], 'cache-control': 'no-store' })
      res.end(JSON.stringify({ relayUrl: `ws://${hostname}:${relayPort}` }))
      return
    }
    let file = resolve(dist, `.${decodeURIComponent(url.pathname)}`)
    if (!file.startsWith(dist) || !existsSync(file) || statSync(file).isDirectory()) {
      file = join(dist, 'index.html') // single-page app: every route is the portal
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'x-content-type-options': 'nosniff',
    })
    res.end(readFileSync(file))
  })
}

async function main() {
  const toBuild = RELAY_PACKAGES.filter(stale)
  if (toBuild.length > 0) {
    await step(`Building ${toBuild.map((n) => `@valv/${n}`).join(', ')}`, () =>
      run(process.execPath, [join(root, 'node_modules/rollup/dist/bin/rollup'), '-c'], {
        VALV_PACKAGES: toBuild.join(','),
      }),
    )
  } else process.stdout.write('Relay packages are up to date\n')

  const vite = await import('vite')
  await step('Building the agency portal (Vite)', () =>
    vite.build({ configFile: join(portal, 'vite.config.ts'), logLevel: 'error' }),
  )

  const relayModule = pathToFileURL(join(root, 'packages/relay/dist/index.js')).href
  const { Relay, defaultVerifier, openStorage, jsonLogger } = await import(relayModule)
  const storage = await step(`Opening the relay store fs:${dataDir}`, () =>
    openStorage(`fs:${dataDir}`),
  )
  const quietLogger = (record) => {
    if (record.level !== 'debug' && record.level !== 'info') jsonLogger(record)
  }
  const relay = new Relay({ storage, verifier: defaultVerifier(), logger: quietLogger })
  await relay.listen(relayPort, host)
  const server = servePortal(join(portal, 'dist'))
  await new Promise((ok, fail) => {
    server.once('error', fail)
    server.listen(port, host, ok)
  })
  process.stdout.write(
    `\nValv relay: ws://${host}:${relayPort} (ciphertext stored in ${dataDir})\n` +
      `Agency portal: http://${host}:${port}/\n` +
      'Open it in two browser windows (one private) to collaborate. Ctrl+C stops.\n',
  )
  const stop = () => {
    server.close()
    relay.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
