// Proves the published artefacts work outside the workspace, from `npm pack` tarballs (run after
// `npm run build`), in scratch ESM projects under the OS temp dir where nothing else is installed:
//
// 1. docs/getting-started.md, verbatim: the `npm install` line of "Run a relay" and its
//    `npx valv-relay` command in one project; the `npm install` line of "Put it in your app" and
//    that section's first example in another, pointed at that relay. It must sync, and the relay's
//    store must not contain the plaintext.
// 2. Every package, installed alone from its tarball (npm brings its required peers), imports
//    under plain Node, each of its subpaths too.
//
// The @valv tarballs stand in for the registry: a package's @valv dependencies resolve to their
// tarballs through `overrides`, so each project's package.json lists only what the docs install.
import { execFileSync, spawn } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { transformSync } from 'esbuild'
import { packagesWithCode } from './packages.mjs'

const GUIDE = 'docs/getting-started.md'
const scratch = mkdtempSync(join(tmpdir(), 'valv-pack-'))
let relay

/** The `npm install …` arguments and the first `ts` block of each `## ` section of the guide. */
function guideSections() {
  const sections = new Map()
  let current
  let fence
  let body = []
  for (const line of readFileSync(GUIDE, 'utf8').split('\n')) {
    if (fence === undefined && line.startsWith('## ')) {
      current = { installs: [], commands: [], example: undefined }
      sections.set(line.slice(3).trim(), current)
    } else if (fence === undefined && line.startsWith('```')) {
      fence = line.slice(3).trim()
      body = []
    } else if (fence !== undefined && line.startsWith('```')) {
      if (current && fence === 'ts' && current.example === undefined) {
        current.example = body.join('\n')
      }
      if (current && fence === 'sh') {
        for (const command of body) {
          const install = /^npm install ((?:@?[\w./-]+(?:@[\w.^~-]+)?\s*)+)$/.exec(command.trim())
          if (install) current.installs.push(...install[1].trim().split(/\s+/))
          else if (command.trim()) current.commands.push(command.trim())
        }
      }
      fence = undefined
    } else if (fence !== undefined) {
      body.push(line)
    }
  }
  return sections
}

function section(sections, title) {
  const found = sections.get(title)
  if (!found) throw new Error(`${GUIDE} has no "## ${title}" section`)
  return found
}

/** An empty scratch project. */
function project(name) {
  const dir = join(scratch, name)
  mkdirSync(dir)
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }))
  return dir
}

/**
 * `npm install` as a user types it, with the named @valv packages swapped for their tarballs and
 * the @valv packages they depend on resolved to theirs through `overrides` (npm refuses an
 * override of a direct dependency, hence only the others).
 */
function install(dir, names, tarballs) {
  const direct = new Map(names.map((spec) => [spec.replace(/(?<=.)@[^/]*$/, ''), spec]))
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  manifest.overrides = Object.fromEntries(
    [...tarballs].filter(([pkg]) => !direct.has(pkg)).map(([pkg, file]) => [pkg, `file:${file}`]),
  )
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest))
  const args = [...direct].map(([name, spec]) => tarballs.get(name) ?? spec)
  console.log(`[${dir.split('/').pop()}] npm install ${names.join(' ')}`)
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...args], {
    cwd: dir,
    stdio: 'inherit',
  })
}

/** Every file at or below `path` (or `path` itself when it is a file, as an sqlite store is). */
function walk(path) {
  if (!existsSync(path)) return []
  if (!statSync(path).isDirectory()) return [path]
  return readdirSync(path).flatMap((entry) => walk(join(path, entry)))
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolvePort(port))
    })
  })
}

/** SIGTERM to the relay's whole process group (npx and the relay under it). */
function stop(child) {
  try {
    process.kill(-child.pid, 'SIGTERM')
  } catch {
    // already gone
  }
}

async function startRelay(dir, command, port) {
  const argv = command.replace(/--port \d+/, `--port ${port}`).split(/\s+/)
  if (argv[0] !== 'npx') throw new Error(`expected an npx command, got: ${command}`)
  console.log(`[relay] ${argv.join(' ')}`)
  // Its own process group: npx does not pass SIGTERM on to the relay it started.
  const child = spawn('npx', ['--no-install', ...argv.slice(1)], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  })
  let output = ''
  child.stdout.on('data', (data) => {
    output += data
  })
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`relay exited: ${output}`)
    if (/"event":"listening"|listening/i.test(output)) return child
    const up = await new Promise((res) => {
      const probe = createServer()
      probe.once('error', () => res(true))
      probe.listen(port, '127.0.0.1', () => probe.close(() => res(false)))
    })
    if (up) return child
    await new Promise((res) => setTimeout(res, 200))
  }
  throw new Error(`relay did not listen on ${port}: ${output}`)
}

try {
  const packages = packagesWithCode()
  const tarballs = new Map()
  const tarballDir = join(scratch, 'tarballs')
  mkdirSync(tarballDir)
  for (const { dir, name } of packages) {
    const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', tarballDir], {
      cwd: dir,
      encoding: 'utf8',
    })
    tarballs.set(name, resolve(tarballDir, out.trim().split('\n').pop()))
  }

  // 1. The getting-started guide, verbatim.
  const sections = guideSections()
  const relaySection = section(sections, 'Run a relay')
  const appSection = section(sections, 'Put it in your app')
  if (!appSection.example) throw new Error(`"Put it in your app" has no ts example`)

  const relayDir = project('relay')
  install(relayDir, relaySection.installs, tarballs)
  const port = await freePort()
  relay = await startRelay(relayDir, relaySection.commands[0], port)

  const appDir = project('app')
  install(appDir, appSection.installs, tarballs)
  const example = appSection.example.replace(
    /'wss:\/\/relay\.example\.se'/g,
    `'ws://127.0.0.1:${port}'`,
  )
  if (example === appSection.example) throw new Error('the example names no wss://relay.example.se')
  const plaintext = /insert\(0, '([^']+)'\)/.exec(example)?.[1]
  if (!plaintext) throw new Error('the example inserts no text to look for')
  // The guide is written for a browser, which has a global WebSocket; Node 20 gets `ws` (taken
  // from the relay project so the app project holds only what the guide installs).
  const preamble =
    `import { createRequire } from 'node:module'\n` +
    `globalThis.WebSocket ??= createRequire(${JSON.stringify(join(relayDir, 'x.js'))})('ws').WebSocket\n`
  const epilogue = `
await provider.whenSynced()
for (let i = 0; provider.unsyncedChanges > 0; i++) {
  if (i > 200) throw new Error('edits never reached the relay')
  await new Promise((r) => setTimeout(r, 50))
}
if (!link) throw new Error('no invite link')
console.log('getting-started example synced through the relay')
await provider.destroy()
`
  const { code } = transformSync(`${preamble}${example}\n${epilogue}`, {
    loader: 'ts',
    format: 'esm',
    target: 'node20',
  })
  writeFileSync(join(appDir, 'app.mjs'), code)
  execFileSync('node', ['app.mjs'], { cwd: appDir, stdio: 'inherit', timeout: 60_000 })

  const exited = new Promise((res) => relay.once('exit', res))
  stop(relay)
  await exited
  relay = undefined
  const storage = /--storage (?:fs|sqlite):(\S+)/.exec(relaySection.commands[0])?.[1]
  if (!storage) throw new Error('the relay command names no fs: or sqlite: store to inspect')
  const stored = walk(join(relayDir, storage))
  if (stored.length === 0) throw new Error('the relay stored nothing')
  for (const file of stored) {
    if (readFileSync(file).includes(Buffer.from(plaintext))) {
      throw new Error(`the relay's ${file} contains the plaintext`)
    }
  }
  // 2. Each package alone (better-sqlite3 compiles from source for minutes here).
  for (const { name, pkg } of packages) {
    const dir = project(`alone-${name.replace('@valv/', '')}`)
    install(dir, [name], tarballs)
    // Every subpath, but those whose optional peers a user installs on purpose (conformance).
    const optional = Object.keys(pkg.peerDependenciesMeta ?? {}).length > 0
    const subpaths = Object.keys(pkg.exports)
      .filter((sub) => sub !== './package.json' && (sub === '.' || !optional))
      .map((sub) => (sub === '.' ? name : `${name}/${sub.slice(2)}`))
    const script = [
      ...subpaths.map(
        (spec) =>
          `{ const m = await import(${JSON.stringify(spec)}); const n = Object.keys(m).length;` +
          ` if (n === 0) throw new Error(${JSON.stringify(spec)} + ' exports nothing');` +
          ` console.log('imported', ${JSON.stringify(spec)}, n, 'exports') }`,
      ),
      `await import(${JSON.stringify(`${name}/package.json`)}, { with: { type: 'json' } })`,
    ].join('\n')
    execFileSync('node', ['--input-type=module', '-e', script], { cwd: dir, stdio: 'inherit' })
    rmSync(join(dir, 'node_modules'), { recursive: true, force: true })
  }

  console.log(
    `${packages.length} packages imported alone; ${GUIDE} ran verbatim from packed tarballs` +
      ` (the relay stored ${stored.length} files, none with the plaintext)`,
  )
} finally {
  if (relay) stop(relay)
  rmSync(scratch, { recursive: true, force: true })
}
