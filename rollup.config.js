// One build for every workspace package: each `exports` subpath and `bin` entry of
// packages/<name>/package.json maps dist/<file>.js back to src/<file>.ts, and is built to
// ESM + source map + a bundled .d.ts. Every bare import stays external, so @valv/* packages
// resolve through the workspace and yjs/lib0/y-protocols are never bundled twice.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import dts from 'rollup-plugin-dts'
import esbuild from 'rollup-plugin-esbuild'

const only = process.env.VALV_PACKAGES?.split(',')
const isExternal = (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0')

/** @param {string} dir */
function entriesOf(dir) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  const targets = new Set()
  for (const value of Object.values(pkg.exports ?? {})) {
    if (typeof value === 'object' && value.import) targets.add(value.import)
  }
  for (const bin of Object.values(
    typeof pkg.bin === 'string' ? { bin: pkg.bin } : (pkg.bin ?? {}),
  )) {
    targets.add(bin)
  }
  const input = {}
  for (const target of targets) {
    const name = target.replace(/^\.\/dist\//, '').replace(/\.js$/, '')
    input[name] = join(dir, 'src', `${name}.ts`)
  }
  return { input, bins: new Set(Object.values(pkg.bin ?? {})) }
}

// Private workspace packages (@valv/test-utils) are test fixtures: never built or published.
const isPrivate = (name) =>
  JSON.parse(readFileSync(join('packages', name, 'package.json'), 'utf8')).private === true

const packages = readdirSync('packages')
  .filter((name) => existsSync(join('packages', name, 'package.json')))
  .filter((name) => !isPrivate(name))
  .filter((name) => !only || only.includes(name))

export default packages.flatMap((name) => {
  const dir = join('packages', name)
  const { input } = entriesOf(dir)
  if (Object.keys(input).length === 0 || !Object.values(input).every(existsSync)) return []
  return [
    {
      input,
      external: isExternal,
      plugins: [esbuild({ target: 'es2022', tsconfig: join(dir, 'tsconfig.json') })],
      output: {
        dir: join(dir, 'dist'),
        format: 'es',
        sourcemap: true,
        entryFileNames: '[name].js',
        chunkFileNames: 'chunks/[name]-[hash].js',
      },
    },
    {
      input,
      external: isExternal,
      plugins: [
        dts({ tsconfig: join(dir, 'tsconfig.json'), compilerOptions: { paths: {}, baseUrl: '.' } }),
      ],
      output: {
        dir: join(dir, 'dist'),
        format: 'es',
        entryFileNames: '[name].d.ts',
        chunkFileNames: 'chunks/[name]-[hash].d.ts',
      },
    },
  ]
})
