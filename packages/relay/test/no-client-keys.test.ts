import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const src = fileURLToPath(new URL('../src/', import.meta.url))
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
const CLIENT = [
  '@valv/crypto',
  '@valv/core',
  '@valv/provider-websocket',
  '@valv/provider-broadcast',
]

describe('the relay holds no client key material', () => {
  it('no relay source imports a client package, and none is a dependency', () => {
    const files = readdirSync(src).filter((f) => f.endsWith('.ts'))
    expect(files.length).toBeGreaterThan(5)
    for (const f of files) {
      const text = readFileSync(src + f, 'utf8')
      const imports = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1])
      for (const c of CLIENT) expect(imports, `${f} imports ${c}`).not.toContain(c)
    }
    const deps = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })
    for (const c of CLIENT) expect(deps).not.toContain(c)
  })
})
