import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Inside the monorepo the examples resolve `@valv/*` to package sources, so they run without
 * building every package first. An app outside the monorepo drops this and uses the published
 * builds from npm.
 */
export function sourceAliases(packages: string): { find: RegExp; replacement: string }[] {
  const out: { find: RegExp; replacement: string }[] = []
  for (const name of readdirSync(packages)) {
    const file = join(packages, name, 'package.json')
    if (!existsSync(file)) continue
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as {
      name: string
      exports?: Record<string, { import?: string }>
    }
    for (const [sub, target] of Object.entries(pkg.exports ?? {})) {
      if (!target.import) continue
      const src = target.import.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')
      const spec = sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`
      out.push({
        find: new RegExp(`^${spec.replace(/[/.]/g, '\\$&')}$`),
        replacement: join(packages, name, src),
      })
    }
  }
  return out
}
