#!/usr/bin/env node
// Makes this machine ready for `npm test` (which runs this first): Debian's Chromium at
// /usr/bin/chromium, PostgreSQL on 127.0.0.1:5432 (database `test`) and Redis on 127.0.0.1:6379.
// What is missing is installed or started when that is possible here (apt-get as root, the
// Debian service commands); otherwise it stops at once and prints the one command that fixes it,
// instead of letting dozens of tests time out later.
import { execFileSync, spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, readdirSync } from 'node:fs'
import { connect } from 'node:net'

const CHROMIUM = '/usr/bin/chromium'
const isRoot = process.getuid?.() === 0
const problems = []
const sudo = isRoot ? '' : 'sudo '

/** Runs a command with its output hidden; true when it exited 0. */
function run(command, args, env = {}) {
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  })
  return result.status === 0
}

function onPath(command) {
  return run('sh', ['-c', `command -v ${command}`])
}

/** Sends `send` to 127.0.0.1:`port` and resolves true when the reply matches `expect`. */
function answers(port, send, expect) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    let reply = ''
    const done = (ok) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(2000, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => (send ? socket.write(send) : done(true)))
    socket.on('data', (data) => {
      reply += data.toString('latin1')
      if (expect.test(reply)) done(true)
    })
  })
}

async function waitFor(probe, seconds) {
  for (let i = 0; i < seconds * 2; i++) {
    if (await probe()) return true
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  return false
}

function executable(path) {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

// LibreOffice, which converts the OpenDocument exports of @valv/compliance in their tests
// (Writer, Calc and, for .odp, Impress: its registry file shows it is installed).
const impress = '/usr/lib/libreoffice/share/registry/impress.xcd'
if (!onPath('soffice') || !existsSync(impress)) {
  const pkgs = ['libreoffice-writer-nogui', 'libreoffice-calc-nogui', 'libreoffice-impress-nogui']
  if (isRoot && onPath('apt-get')) {
    console.log('ensure-env: installing LibreOffice (apt-get) …')
    const env = { DEBIAN_FRONTEND: 'noninteractive' }
    const install = ['install', '-y', '--no-install-recommends', ...pkgs]
    if (!run('apt-get', install, env)) {
      run('apt-get', ['update'], env)
      run('apt-get', install, env)
    }
  }
  if (!onPath('soffice')) {
    problems.push(`LibreOffice is missing: ${sudo}apt-get install -y ${pkgs.join(' ')}`)
  }
}

// Python 3 with `cryptography`, which the independent protocol reader (interop/) uses.
if (!run('python3', ['-c', 'import cryptography.hazmat.primitives.asymmetric.x25519'])) {
  problems.push('python3 with the cryptography package is missing: pip install cryptography')
}

// Chromium, for the browser tests (playwright-core drives it; it never downloads a browser).
if (!executable(CHROMIUM)) {
  const install = ['install', '-y', '--no-install-recommends', 'chromium']
  if (isRoot && onPath('apt-get')) {
    console.log('ensure-env: installing Debian chromium (apt-get) …')
    const env = { DEBIAN_FRONTEND: 'noninteractive' }
    if (!run('apt-get', install, env)) {
      run('apt-get', ['update'], env)
      run('apt-get', install, env)
    }
  }
  if (!executable(CHROMIUM)) {
    problems.push(`Chromium is missing at ${CHROMIUM}: ${sudo}apt-get install -y chromium`)
  }
}

// PostgreSQL (storage-postgres, relay): trust auth on 127.0.0.1:5432, database `test`.
const postgres = () => answers(5432, null, /./)
if (!(await postgres())) {
  const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : []
  const start = [
    'pg_ctlcluster',
    '--skip-systemctl-redirect',
    versions[0] ?? '<version>',
    'main',
    'start',
  ]
  if (isRoot && versions.length === 1 && onPath('pg_ctlcluster')) {
    console.log('ensure-env: starting PostgreSQL …')
    run(start[0], start.slice(1))
  }
  if (!(await waitFor(postgres, 30))) {
    problems.push(`PostgreSQL does not answer on 127.0.0.1:5432: ${sudo}${start.join(' ')}`)
  }
}
if (onPath('psql') && (await postgres())) {
  // The tests use database `test`; create it when the server lacks it (needs trust auth).
  const has = spawnSync(
    'psql',
    ['-h', '127.0.0.1', '-U', 'postgres', '-tAc', "select 1 from pg_database where datname='test'"],
    { encoding: 'utf8' },
  )
  if (has.status === 0 && has.stdout.trim() !== '1') {
    run('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-c', 'create database test'])
  }
}

// Redis (relay fan-out across processes): 127.0.0.1:6379, nothing kept on disk.
const redis = () => answers(6379, 'PING\r\n', /\+PONG/)
if (!(await redis())) {
  const start = [
    'redis-server',
    '--daemonize',
    'yes',
    '--bind',
    '127.0.0.1',
    '-::1',
    '--port',
    '6379',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    '/var/lib/redis',
    '--logfile',
    '/var/log/redis/ci.log',
  ]
  if (onPath('redis-server') && existsSync('/var/lib/redis') && existsSync('/var/log/redis')) {
    console.log('ensure-env: starting Redis …')
    run(start[0], start.slice(1))
  }
  if (!(await waitFor(redis, 15))) {
    const shown = start.map((arg) => (arg === '' ? '""' : arg)).join(' ')
    problems.push(`Redis does not answer on 127.0.0.1:6379: ${sudo}${shown}`)
  }
}

if (problems.length > 0) {
  console.error(`ensure-env: this machine cannot run the tests yet.\n- ${problems.join('\n- ')}`)
  process.exit(1)
}
if (process.argv.includes('--verbose')) {
  console.log(execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).trim())
}
