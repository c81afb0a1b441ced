#!/usr/bin/env node
// Scaffolds packages/<name> with the package.json, tsconfig.json and typedoc.json every package shares.
// Usage: node .ci/new-package.mjs <name> "<description>" [browser|node]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const [name, description = '', platform = 'universal'] = process.argv.slice(2)
if (!name) throw new Error('usage: new-package.mjs <name> "<description>" [browser|node]')
const dir = join('packages', name)
if (existsSync(join(dir, 'package.json'))) throw new Error(`${dir} exists`)
mkdirSync(join(dir, 'src'), { recursive: true })
const pkg = {
  name: `@valv/${name}`,
  version: '0.1.0',
  description,
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  exports: {
    '.': { types: './dist/index.d.ts', import: './dist/index.js' },
    './package.json': './package.json',
  },
  main: './dist/index.js',
  types: './dist/index.d.ts',
  files: ['dist', 'src', '!src/**/*.test.ts'],
  engines: { node: '>=20' },
  keywords: ['yjs', 'e2ee', 'valv', platform].filter((k) => k !== 'universal'),
  repository: { type: 'git', url: 'git+https://github.com/valv-sdk/valv.git', directory: dir },
  // Declare exactly what src/ imports by bare name (test/packaging/manifests.test.ts checks it):
  // yjs, y-protocols and lib0 as (required) peerDependencies, everything else as dependencies.
  dependencies: {},
}
writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`)
writeFileSync(
  join(dir, 'tsconfig.json'),
  `${JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { baseUrl: '../..' }, include: ['src'] }, null, 2)}\n`,
)
writeFileSync(
  join(dir, 'typedoc.json'),
  `${JSON.stringify({ extends: ['../../typedoc.base.json'], entryPoints: ['src/index.ts'], readme: 'none' }, null, 2)}\n`,
)
console.log(`created ${dir}`)
