import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Drive } from './drive.js'
import { DRIVE_ROOT, DRIVE_TRASH } from './types.js'

type Op =
  | { t: 'folder' | 'file'; r: number; parent: number; name: string }
  | { t: 'move'; r: number; node: number; parent: number }
  | { t: 'rename'; r: number; node: number; name: string }
  | { t: 'delete' | 'restore'; r: number; node: number }
  | { t: 'deliver'; r: number; pick: number }

const R = 3
const name = fc.constantFrom('a', 'b', 'Å', 'ärende', 'Öst')
const r = fc.nat(R - 1)
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constantFrom('folder' as const, 'folder' as const, 'file' as const),
      r,
      parent: fc.nat(),
      name,
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({ t: fc.constant('move' as const), r, node: fc.nat(), parent: fc.nat() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('rename' as const), r, node: fc.nat(), name }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constantFrom('delete' as const, 'restore' as const),
      r,
      node: fc.nat(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('deliver' as const), r, pick: fc.nat() }) },
)

/** Walk parent pointers with a bound, so a cycle fails the test instead of hanging it. */
const chainOf = (d: Drive, id: string): string[] => {
  const out: string[] = []
  for (let p = d.node(id).parent; out.length <= 1000; p = d.node(p).parent) {
    out.push(p)
    if (p === DRIVE_ROOT || p === DRIVE_TRASH) return out
  }
  return out
}

/** The tree as a replica shows it: every node with its effective parent and name. */
const view = (d: Drive) => d.nodeIds().map((id) => [id, d.node(id).parent, d.node(id).name])

let cyclesTried = 0

describe('drive convergence', () => {
  it('random concurrent moves/renames/deletes on 3 replicas converge to one acyclic tree', () => {
    fc.assert(
      fc.property(
        fc.array(op, { minLength: 20, maxLength: 80, size: 'max' }),
        fc.nat(),
        (ops, seed) => {
          const docs = Array.from({ length: R }, () => new Y.Doc())
          const drives = docs.map((d, i) => new Drive(d, { member: `m${i}` }))
          // updates each replica has produced and not yet handed to each other replica
          const pending = docs.map(() => [] as Uint8Array[])
          for (const [i, d] of docs.entries()) {
            d.on('update', (u: Uint8Array, origin: unknown) => {
              if (origin !== 'remote') for (let j = 0; j < R; j++) if (j !== i) pending[j]?.push(u)
            })
          }
          const created: string[] = []
          for (const o of ops) {
            const d = drives[o.r] as Drive
            const known = d.nodeIds()
            const pick = (n: number) => known[n % Math.max(1, known.length)]
            try {
              if (o.t === 'deliver') {
                const q = pending[o.r] as Uint8Array[]
                const [u] = q.splice((o.pick + seed) % Math.max(1, q.length), 1)
                if (u) Y.applyUpdate(docs[o.r] as Y.Doc, u, 'remote')
              } else if (o.t === 'folder' || o.t === 'file') {
                const p = o.parent % 3 === 0 ? DRIVE_ROOT : (pick(o.parent) ?? DRIVE_ROOT)
                const id =
                  o.t === 'folder'
                    ? d.createFolder(o.name, { parent: p })
                    : d.createFile(o.name, { parent: p })
                created.push(id)
              } else if ('node' in o) {
                const id = pick(o.node)
                if (id === undefined) continue
                if (o.t === 'move') {
                  const target = o.parent % 3 === 0 ? DRIVE_ROOT : (pick(o.parent) ?? DRIVE_ROOT)
                  if (target !== DRIVE_ROOT && d.node(target).parent !== DRIVE_ROOT) cyclesTried++
                }
                if (o.t === 'move')
                  d.move(id, o.parent % 3 === 0 ? DRIVE_ROOT : (pick(o.parent) ?? DRIVE_ROOT))
                else if (o.t === 'rename') d.rename(id, o.name)
                else if (o.t === 'delete') d.delete(id)
                else d.restore(id)
              }
            } catch (e) {
              // locally invalid operations (cycle, not-a-folder, not-in-trash) must change nothing
              expect((e as { code?: string }).code).toMatch(/cycle|not-a-folder|not-in-trash/)
            }
          }
          // deliver the rest in a shuffled order
          for (let i = 0; i < R; i++) {
            const q = pending[i] as Uint8Array[]
            for (let k = q.length - 1; k > 0; k--) {
              const j = (seed + k * 7919) % (k + 1)
              ;[q[k], q[j]] = [q[j] as Uint8Array, q[k] as Uint8Array]
            }
            for (const u of q) Y.applyUpdate(docs[i] as Y.Doc, u, 'remote')
          }
          const first = view(drives[0] as Drive)
          for (const d of drives) expect(view(d)).toEqual(first)
          const d0 = drives[0] as Drive
          for (const id of created) expect(chainOf(d0, id).length).toBeLessThan(1000)
          expect(d0.nodeIds().sort()).toEqual([...created].sort())
          for (const id of created) {
            // reachable: the ancestor chain is finite, repeats nothing and ends at root or trash
            const chain = chainOf(d0, id)
            expect(chain).toEqual(d0.ancestors(id))
            expect(new Set(chain).size).toBe(chain.length)
            expect([DRIVE_ROOT, DRIVE_TRASH]).toContain(chain.at(-1))
            expect(chain).not.toContain(id)
          }
          const listed = [DRIVE_ROOT, DRIVE_TRASH].flatMap((top) => [
            ...d0.children(top).map((n) => n.id),
            ...d0.children(top).flatMap((n) => d0.descendants(n.id)),
          ])
          expect(listed.sort()).toEqual([...created].sort())
        },
      ),
      { numRuns: 150 },
    )
    // sanity: the runs did move nodes into nested folders, where concurrent cycles arise
    expect(cyclesTried).toBeGreaterThan(100)
  })
})
