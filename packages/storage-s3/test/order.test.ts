import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { segmentOrder } from '../src/order.js'

async function all(names: string[]): Promise<string[]> {
  async function* source() {
    yield* names
  }
  const out: string[] = []
  for await (const s of segmentOrder(source())) out.push(s)
  return out
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

describe('segmentOrder', () => {
  it('puts a folder before siblings that extend it with "-" or "."', async () => {
    // S3 order of these names: "a!v" < "a-b!v" < "a.c/" < "a/" < "a0!b"
    expect(await all(['a!v', 'a-b!v', 'a.c/', 'a/', 'a0!b'])).toEqual(['a', 'a-b', 'a.c', 'a0'])
    expect(await all(['x-y-z!v', 'x-y/', 'x/'])).toEqual(['x', 'x-y', 'x-y-z'])
  })

  it('yields the distinct segments in byte order for any set of names (property)', async () => {
    const segment = fc.stringMatching(/^[a.\-0b]{1,5}$/)
    const entry = fc.tuple(segment, fc.constantFrom('!v', '!b', '/'))
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(entry, { selector: ([s, k]) => s + k, maxLength: 40 }),
        async (entries) => {
          const names = entries.map(([s, k]) => s + k).sort(byteOrder)
          const expected = [...new Set(entries.map(([s]) => s))].sort(byteOrder)
          expect(await all(names)).toEqual(expected)
        },
      ),
      { numRuns: 500 },
    )
  })
})
