// Model-based property check shared (by copy) by the Valv adapter packages of this repo:
// random puts, blob writes, deletes and prefix deletes, then every listing compared with a
// plain in-memory model. The alphabet is chosen to stress ordering around "-", "." and "0".
import type { StorageAdapter, StorageKey } from '@valv/storage'
import fc from 'fast-check'
import { expect } from 'vitest'

type Op =
  | { kind: 'put'; key: string[]; byte: number }
  | { kind: 'blob'; key: string[]; byte: number }
  | { kind: 'delete'; key: string[] }
  | { kind: 'deletePrefix'; key: string[] }

const segment = fc.constantFrom('a', 'a-', 'a.', 'a0', 'a-b', 'b', '-', '0')
const key = fc.array(segment, { minLength: 1, maxLength: 3 })
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('put' as const), key, byte: fc.nat(255) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('blob' as const), key, byte: fc.nat(255) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), key }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deletePrefix' as const),
      key: fc.array(segment, { maxLength: 2 }),
    }),
  },
)

const id = (k: StorageKey) => k.join('\u0000')
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const startsWith = (k: StorageKey, p: StorageKey) => p.every((s, i) => k[i] === s)

async function drain<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

/** Run `numRuns` random histories against `adapter` (emptied before each) and a model. */
export async function checkAgainstModel(adapter: StorageAdapter, numRuns = 25): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      fc.array(op, { maxLength: 25 }),
      fc.array(segment, { maxLength: 2 }),
      async (ops, probe) => {
        await adapter.deletePrefix([])
        const values = new Map<string, { key: string[]; byte: number }>()
        const blobs = new Map<string, { key: string[]; byte: number }>()
        for (const o of ops) {
          if (o.kind === 'put') {
            await adapter.put(o.key, new Uint8Array([o.byte]))
            values.set(id(o.key), o)
          } else if (o.kind === 'blob') {
            await adapter.putStream(
              o.key,
              (async function* () {
                yield new Uint8Array([o.byte, o.byte])
              })(),
            )
            blobs.set(id(o.key), o)
          } else if (o.kind === 'delete') {
            await adapter.delete(o.key)
            values.delete(id(o.key))
            blobs.delete(id(o.key))
          } else {
            await adapter.deletePrefix(o.key)
            for (const m of [values, blobs])
              for (const [k, v] of m) if (startsWith(v.key, o.key)) m.delete(k)
          }
        }
        for (const prefix of [[], probe, probe.slice(0, 1)]) {
          const direct = [...values.values()]
            .filter((v) => v.key.length === prefix.length + 1 && startsWith(v.key, prefix))
            .sort((a, b) => cmp(a.key.at(-1)!, b.key.at(-1)!))
          const listed = await drain(adapter.list({ prefix }))
          expect(listed.map((e) => [e.key, [...e.value]])).toEqual(
            direct.map((v) => [v.key, [v.byte]]),
          )
          const ranged = await drain(adapter.list({ prefix, start: 'a-', end: 'a0', limit: 2 }))
          expect(ranged.map((e) => e.key)).toEqual(
            direct
              .filter((v) => v.key.at(-1)! >= 'a-' && v.key.at(-1)! < 'a0')
              .slice(0, 2)
              .map((v) => v.key),
          )
          const children = [
            ...new Set(
              [...values.values(), ...blobs.values()]
                .filter((v) => v.key.length > prefix.length && startsWith(v.key, prefix))
                .map((v) => v.key[prefix.length]!),
            ),
          ].sort(cmp)
          expect(await drain(adapter.listChildren(prefix))).toEqual(children)
        }
        for (const v of values.values())
          expect(await adapter.get(v.key)).toEqual(new Uint8Array([v.byte]))
        for (const b of blobs.values()) {
          const stream = await adapter.getStream(b.key)
          expect(stream).toBeDefined()
          expect((await drain(stream!)).flatMap((p) => [...p])).toEqual([b.byte, b.byte])
        }
      },
    ),
    { numRuns },
  )
}
