// Every published package declares exactly what its code imports by bare name. A missing
// declaration breaks `npm install @valv/x` outside this workspace (the hoisted root
// node_modules hides it here); an optional peer that the main entry imports is not installed by
// npm and fails with ERR_MODULE_NOT_FOUND; an unused one costs every user a download.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

/** Packages that must be one copy per app, so they are peers wherever they are imported. */
const SHARED = new Set(['yjs', 'y-protocols', 'lib0'])

interface Manifest {
  name: string
  private?: boolean
  exports?: Record<string, string | { import?: string }>
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
  devDependencies?: Record<string, string>
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : []
  })
}

function importsOf(file: string): string[] {
  return ts
    .preProcessFile(readFileSync(file, 'utf8'), true, true)
    .importedFiles.map((ref) => ref.fileName)
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/')
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/')
}

function resolveRelative(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier.replace(/\.js$/, ''))
  return [`${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate))
}

/** Bare packages imported by the files reachable from `entry` through relative imports. */
function bareImportsFrom(entry: string): Set<string> {
  const seen = new Set<string>()
  const bare = new Set<string>()
  const queue = [resolve(entry)]
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue
    seen.add(file)
    for (const specifier of importsOf(file)) {
      if (specifier.startsWith('.')) {
        const target = resolveRelative(file, specifier)
        if (target) queue.push(target)
      } else if (!specifier.startsWith('node:')) {
        bare.add(packageOf(specifier))
      }
    }
  }
  return bare
}

const workspace = readdirSync('packages')
  .map((dir) => join('packages', dir))
  .filter((dir) => existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src')))
  .map((dir) => ({
    dir,
    manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest,
  }))
/** The published packages; private ones (@valv/test-utils) are test fixtures, never packed. */
const packages = workspace.filter(({ manifest }) => manifest.private !== true)

const paths = (
  JSON.parse(readFileSync('tsconfig.base.json', 'utf8')) as {
    compilerOptions: { paths: Record<string, string[]> }
  }
).compilerOptions.paths

describe('package manifests', () => {
  it('finds the packages', () => {
    expect(packages.length).toBeGreaterThan(10)
  })

  for (const { dir, manifest } of packages) {
    describe(manifest.name, () => {
      const all = new Set(
        sourceFiles(join(dir, 'src'))
          .flatMap(importsOf)
          .filter((s) => !s.startsWith('.') && !s.startsWith('node:'))
          .map(packageOf)
          .filter((name) => name !== manifest.name),
      )
      const main = bareImportsFrom(join(dir, 'src', 'index.ts'))
      const deps = manifest.dependencies ?? {}
      const peers = manifest.peerDependencies ?? {}
      const meta = manifest.peerDependenciesMeta ?? {}

      it('declares exactly the packages its source imports', () => {
        const declared = [...Object.keys(deps), ...Object.keys(peers)].sort()
        expect(declared).toEqual([...all].sort())
      })

      it('takes yjs, y-protocols and lib0 as peers, never as dependencies', () => {
        for (const name of Object.keys(deps)) expect(SHARED.has(name), name).toBe(false)
      })

      it('makes a peer optional only when the main entry does not import it', () => {
        for (const [name, { optional }] of Object.entries(meta)) {
          if (optional) expect(main.has(name), `${name} is imported by src/index.ts`).toBe(false)
        }
      })

      it('has no devDependencies of its own (the workspace root holds them)', () => {
        expect(manifest.devDependencies ?? {}).toEqual({})
      })

      it('exports ./package.json', () => {
        expect(manifest.exports?.['./package.json']).toBe('./package.json')
      })

      it('maps every subpath export to its source for the typecheck (tsconfig paths)', () => {
        for (const [sub, target] of Object.entries(manifest.exports ?? {})) {
          if (sub === '.' || typeof target === 'string' || !target.import) continue
          const source = target.import.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')
          expect(existsSync(join(dir, source)), source).toBe(true)
          expect(paths[`${manifest.name}/${sub.slice(2)}`], sub).toEqual([join(dir, source)])
        }
      })
    })
  }
})

describe('@valv/test-utils (shared test fixtures)', () => {
  const testUtils = workspace.find(({ manifest }) => manifest.name === '@valv/test-utils')

  it('is a private workspace package, so it is never built, packed or published', () => {
    expect(testUtils?.manifest.private).toBe(true)
    expect(packages.map(({ manifest }) => manifest.name)).not.toContain('@valv/test-utils')
  })

  it('is depended on and imported by no published package (only tests use it)', () => {
    for (const { dir, manifest } of packages) {
      const declared = {
        ...manifest.dependencies,
        ...manifest.peerDependencies,
        ...manifest.devDependencies,
      }
      expect(Object.keys(declared), manifest.name).not.toContain('@valv/test-utils')
      const imported = sourceFiles(join(dir, 'src')).flatMap(importsOf).map(packageOf)
      expect(imported, manifest.name).not.toContain('@valv/test-utils')
    }
  })
})

describe('@valv/models subpaths', () => {
  // A chat or drive bundle must not carry ProseMirror, markdown-it or formulajs.
  const models = (sub: string) => [...bareImportsFrom(`packages/models/src/${sub}/index.ts`)].sort()

  it('@valv/models/chat imports only yjs', () => {
    expect(models('chat')).toEqual(['yjs'])
  })

  it('@valv/models/drive imports only yjs', () => {
    expect(models('drive')).toEqual(['yjs'])
  })

  it('@valv/models/slides imports only yjs and fractional-indexing', () => {
    expect(models('slides')).toEqual(['fractional-indexing', 'yjs'])
  })

  it('exports one subpath per model family', () => {
    const manifest = JSON.parse(readFileSync('packages/models/package.json', 'utf8')) as Manifest
    const families = readdirSync('packages/models/src').filter((entry) =>
      existsSync(join('packages/models/src', entry, 'index.ts')),
    )
    expect(families.length).toBeGreaterThan(0)
    for (const family of families)
      expect(Object.keys(manifest.exports ?? {})).toContain(`./${family}`)
  })
})
