// Packs every built package with `npm pack`, installs all tarballs into a scratch ESM project
// under the OS temp dir and imports each package by name under plain Node: proof that the
// published artefacts (exports map, dist, dependencies) work outside the workspace.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { packagesWithCode } from './packages.mjs'

const scratch = mkdtempSync(join(tmpdir(), 'valv-pack-'))
try {
  const packages = packagesWithCode()
  const tarballs = packages.map(({ dir }) => {
    const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', scratch], {
      cwd: dir,
      encoding: 'utf8',
    })
    return resolve(scratch, out.trim().split('\n').pop())
  })
  writeFileSync(
    join(scratch, 'package.json'),
    JSON.stringify({ name: 'scratch', private: true, type: 'module' }),
  )
  execFileSync(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      'yjs@13',
      'lib0@0.2',
      'y-protocols@1',
      ...tarballs,
    ],
    { cwd: scratch, stdio: 'inherit' },
  )
  const script = packages
    .map(
      ({ name }) =>
        `{ const m = await import(${JSON.stringify(name)}); const n = Object.keys(m).length;` +
        ` if (n === 0) throw new Error(${JSON.stringify(name)} + ' exports nothing');` +
        ` console.log('imported', ${JSON.stringify(name)}, n, 'exports') }`,
    )
    .join('\n')
  writeFileSync(join(scratch, 'smoke.mjs'), script)
  execFileSync('node', ['smoke.mjs'], { cwd: scratch, stdio: 'inherit' })
  console.log(`${packages.length} packages imported from packed tarballs`)
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
