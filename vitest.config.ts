import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { defineConfig } from 'vitest/config'

/**
 * Tests run against sources, not builds: every `@valv/<pkg>[/sub]` export is aliased to
 * `packages/<pkg>/src/<file>.ts`, read from each package's own `exports` map.
 */
function sourceAliases(): { find: string | RegExp; replacement: string }[] {
  const aliases: { find: RegExp; replacement: string }[] = []
  for (const name of readdirSync('packages')) {
    const file = join('packages', name, 'package.json')
    if (!existsSync(file)) continue
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as {
      name: string
      exports?: Record<string, { import?: string }>
    }
    for (const [sub, target] of Object.entries(pkg.exports ?? {})) {
      if (!target.import) continue
      const src = target.import.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')
      const spec = sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`
      aliases.push({
        find: new RegExp(`^${spec.replace(/[/.]/g, '\\$&')}$`),
        replacement: resolve('packages', name, src),
      })
    }
  }
  return aliases
}

export default defineConfig({
  resolve: { alias: sourceAliases() },
  test: {
    include: [
      'packages/*/{src,test}/**/*.test.ts',
      'examples/*/test/**/*.test.ts',
      'bench/**/*.test.ts',
      'test/**/*.test.ts',
      'interop/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.ts'],
      exclude: ['**/*.test.ts'],
      reporter: ['text-summary', 'html'],
    },
  },
})
