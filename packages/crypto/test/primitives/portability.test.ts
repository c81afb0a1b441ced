import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const dir = new URL('../../src/primitives/', import.meta.url)
const allowed =
  /^(@noble\/(ciphers|hashes|curves|post-quantum)\/[\w-]+\.js|@valv\/protocol|\.\/[\w-]+\.js)$/

describe('primitives portability', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'))

  it('import only noble, @valv/protocol and each other, and no Node-only globals', () => {
    expect(files.length).toBeGreaterThanOrEqual(8)
    for (const f of files) {
      const src = readFileSync(new URL(f, dir), 'utf8')
      const imports = [...src.matchAll(/from '([^']+)'/g)].map((m) => m[1] as string)
      for (const spec of imports)
        expect({ file: f, spec, ok: allowed.test(spec) }).toMatchObject({ ok: true })
      expect(src).not.toMatch(/\bBuffer\.|\bprocess\.|\brequire\(|from 'node:/)
    }
  })
})
