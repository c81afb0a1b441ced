// The published workspace packages that have code, for the CI scripts. Private packages
// (@valv/test-utils: shared test fixtures) are left out: never built, packed or published.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** @returns {{ dir: string, name: string, pkg: any }[]} */
export function packagesWithCode() {
  return readdirSync('packages')
    .map((name) => join('packages', name))
    .filter(
      (dir) => existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src', 'index.ts')),
    )
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
      return { dir, name: pkg.name, pkg }
    })
    .filter(({ pkg }) => pkg.private !== true)
}
