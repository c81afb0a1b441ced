// Lints every built package's package.json and exports with publint and @arethetypeswrong/cli.
// Packages are ESM-only, so attw runs with the esm-only profile.
import { execFileSync } from 'node:child_process'
import { packagesWithCode } from './packages.mjs'

let failed = 0
for (const { dir, name } of packagesWithCode()) {
  for (const [tool, args] of [
    ['publint', ['publint', '--strict', dir]],
    ['attw', ['attw', '--pack', dir, '--profile', 'esm-only', '--format', 'table-flipped']],
  ]) {
    try {
      execFileSync('npx', ['--no-install', ...args], { stdio: 'pipe', encoding: 'utf8' })
      console.log(`ok   ${tool} ${name}`)
    } catch (error) {
      failed++
      console.log(`FAIL ${tool} ${name}\n${error.stdout ?? ''}${error.stderr ?? ''}`)
    }
  }
}
if (failed) {
  console.error(`${failed} export check(s) failed`)
  process.exit(1)
}
