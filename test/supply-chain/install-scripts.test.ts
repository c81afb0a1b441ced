/**
 * Client packages run in browsers and apps of agencies that install them with `npm install`:
 * neither they nor anything they pull in may run code at install time. This walks each client
 * package's installed production closure (dependencies, optional dependencies and required
 * peers) and fails on any `preinstall`, `install` or `postinstall` script, or a `binding.gyp`
 * (which npm builds with an implicit install script). Server packages are out of scope:
 * `@valv/storage-sqlite` needs `better-sqlite3`'s native build (docs/supply-chain.md).
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

/** Packages that run on end-user devices. */
const CLIENT_PACKAGES = [
  'core',
  'crypto',
  'models',
  'protocol',
  'provider-broadcast',
  'provider-websocket',
  'storage',
  'storage-indexeddb',
  'storage-memory',
  'wire',
]

const INSTALL_HOOKS = ['preinstall', 'install', 'postinstall']

interface Manifest {
  name: string
  scripts?: Record<string, string>
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
}

/** Node's lookup: `node_modules/<name>` in `from` and each parent. */
function locate(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return candidate
    if (dirname(dir) === dir) return undefined
  }
}

/** Every installed package `dir` depends on at run time, `dir` included. */
function closure(dir: string, seen = new Map<string, Manifest>()): Map<string, Manifest> {
  const real = resolve(dir)
  if (seen.has(real)) return seen
  const pkg = JSON.parse(readFileSync(join(real, 'package.json'), 'utf8')) as Manifest
  seen.set(real, pkg)
  const optionalPeers = pkg.peerDependenciesMeta ?? {}
  const names = [
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.optionalDependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}).filter((n) => optionalPeers[n]?.optional !== true),
  ]
  for (const name of names) {
    const found = locate(name, real)
    if (found !== undefined) closure(found, seen)
    else if (!(name in (pkg.optionalDependencies ?? {})))
      throw new Error(`${pkg.name}: ${name} is not installed`)
  }
  return seen
}

/** `name: hook` for each install-time hook in the closure. */
function installHooks(dir: string): string[] {
  const found: string[] = []
  for (const [path, pkg] of closure(dir)) {
    for (const hook of INSTALL_HOOKS) if (pkg.scripts?.[hook]) found.push(`${pkg.name}: ${hook}`)
    if (existsSync(join(path, 'binding.gyp'))) found.push(`${pkg.name}: binding.gyp`)
  }
  return found
}

describe('supply chain', () => {
  for (const name of CLIENT_PACKAGES) {
    it(`@valv/${name} and its dependencies run nothing at install time`, () => {
      const deps = closure(join('packages', name))
      expect(deps.size).toBeGreaterThan(0)
      expect(installHooks(join('packages', name))).toEqual([])
    })
  }

  it('the check sees an install script where there is one', () => {
    expect(installHooks(join('packages', 'storage-sqlite'))).toContain('better-sqlite3: install')
  })
})
