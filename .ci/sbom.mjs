// `npm run sbom [-- <dir>]`: one CycloneDX 1.5 SBOM per published package (production
// dependencies only) from `npm sbom`, written to `<dir>/<package>.cdx.json` (default `sbom/`).
// Attach them to each release. npm names the SBOM's subject after the checkout folder, so the
// package's own component is moved into `metadata.component`.
import { execFile } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { packagesWithCode } from './packages.mjs'

const run = promisify(execFile)
const out = process.argv[2] ?? 'sbom'
mkdirSync(out, { recursive: true })
const pkgs = packagesWithCode().filter(({ pkg }) => pkg.private !== true)

async function sbom({ dir, name, pkg }) {
  const { stdout } = await run(
    'npm',
    ['sbom', '--sbom-format', 'cyclonedx', '--sbom-type', 'library', '--omit', 'dev', '-w', dir],
    { maxBuffer: 64 * 2 ** 20 },
  )
  const bom = JSON.parse(stdout)
  const purl = `pkg:npm/${name.replace('@', '%40')}@${pkg.version}`
  const self = bom.components.find((c) => c.purl === purl)
  if (self === undefined) throw new Error(`${name}: npm sbom did not list the package itself`)
  bom.metadata.component = self
  bom.components = bom.components.filter((c) => c !== self)
  const file = join(out, `${name.replace('@valv/', 'valv-')}.cdx.json`)
  writeFileSync(file, `${JSON.stringify(bom, null, 2)}\n`)
  console.log(`${file}: ${bom.components.length} components`)
}

// A few at a time: each `npm sbom` reads the whole tree.
const queue = [...pkgs]
await Promise.all(
  Array.from({ length: 4 }, async () => {
    for (let p = queue.shift(); p !== undefined; p = queue.shift()) await sbom(p)
  }),
)
