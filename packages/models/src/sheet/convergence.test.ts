import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { Sheet } from './sheet.js'
import { SheetWorkbook } from './workbook.js'

type Op =
  | { t: 'insRow' | 'delRow' | 'insCol' | 'delCol'; at: number }
  | { t: 'set'; row: number; col: number }
  | { t: 'formula'; row: number; col: number; refRow: number; refCol: number }
  | { t: 'sync'; to: number }

const opArb = (replicas: number): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.record({ t: fc.constantFrom('insRow', 'delRow', 'insCol', 'delCol'), at: fc.nat(6) }),
    fc.record({ t: fc.constant('set'), row: fc.nat(6), col: fc.nat(6) }),
    fc.record({ t: fc.constant('sync'), to: fc.nat(replicas - 1) }),
    fc.record({
      t: fc.constant('formula'),
      row: fc.nat(6),
      col: fc.nat(6),
      refRow: fc.nat(6),
      refCol: fc.nat(6),
    }),
  ) as fc.Arbitrary<Op>

function snapshot(s: Sheet): {
  rows: string[]
  cols: string[]
  cells: Record<string, unknown>
  values: unknown[]
} {
  const cells: Record<string, unknown> = {}
  const values: unknown[] = []
  for (let r = 0; r < s.rowCount; r++) {
    for (let c = 0; c < s.columnCount; c++) {
      const cell = s.getCell(s.address(r, c))
      values.push(cell.value)
      if (cell.input !== null) cells[`${cell.rowId}:${cell.colId}`] = cell.input
    }
  }
  return { rows: [...s.rowIds()], cols: [...s.columnIds()], cells, values }
}

describe('sheet convergence (fast-check)', () => {
  it('2–5 replicas with concurrent row/column inserts, deletes and edits converge; edits stay on their ids', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: 5 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.array(fc.array(opArb(n), { maxLength: 12 }), { minLength: n, maxLength: n }),
              fc.array(fc.nat(n * n), { minLength: n * n, maxLength: n * n }),
            ),
          ),
        ([n, opsPer, order]) => {
          const docs = Array.from({ length: n }, () => new Y.Doc())
          const first = new SheetWorkbook(docs[0] as Y.Doc).addSheet('S', { rows: 3, columns: 3 })
          const init = Y.encodeStateAsUpdate(docs[0] as Y.Doc)
          for (const d of docs.slice(1)) Y.applyUpdate(d, init)
          const sheets = docs.map((d) => new SheetWorkbook(d).sheetById(first.id))
          const writes = new Map<string, string>() // value -> key it was written to
          const insertedRows = new Set<string>()
          const insertedCols = new Set<string>()
          const initialRows = [...first.rowIds()]
          const initialCols = [...first.columnIds()]
          const deleted = new Set<string>()
          let counter = 0
          // Interleave replicas' ops round-robin so partial syncs happen mid-way.
          const longest = Math.max(...opsPer.map((o) => o.length))
          for (let step = 0; step < longest; step++) {
            for (let r = 0; r < n; r++) {
              const op = opsPer[r]?.[step]
              const s = sheets[r] as Sheet
              if (!op) continue
              if (op.t === 'sync') {
                Y.applyUpdate(docs[op.to] as Y.Doc, Y.encodeStateAsUpdate(docs[r] as Y.Doc))
              } else if (op.t === 'formula') {
                const inside = (r: number, c: number) => r < s.rowCount && c < s.columnCount
                if (!inside(op.row, op.col) || !inside(op.refRow, op.refCol)) continue
                const target = s.getCell(s.address(op.row, op.col))
                s.setFormula(target.address, `=${s.address(op.refRow, op.refCol)}&"+"`)
                writes.set(`f${counter++}`, `${target.rowId}:${target.colId}`)
              } else if (op.t === 'set') {
                if (op.row >= s.rowCount || op.col >= s.columnCount) continue
                const v = `v${counter++}`
                const cell = s.getCell(s.address(op.row, op.col))
                s.setCell(cell.address, v)
                writes.set(v, `${cell.rowId}:${cell.colId}`)
              } else {
                const isRow = op.t === 'insRow' || op.t === 'delRow'
                const len = isRow ? s.rowCount : s.columnCount
                if (op.t === 'insRow' || op.t === 'insCol') {
                  const at = Math.min(op.at, len)
                  const ids = isRow ? s.insertRows(at) : s.insertColumns(at)
                  for (const id of ids) (isRow ? insertedRows : insertedCols).add(id)
                } else if (op.at < len) {
                  const ids = isRow ? s.rowIds() : s.columnIds()
                  deleted.add(ids[op.at] as string)
                  if (isRow) s.deleteRows(op.at)
                  else s.deleteColumns(op.at)
                }
              }
            }
          }
          // Final full exchange in a random order.
          const updates = docs.map((d) => Y.encodeStateAsUpdate(d))
          for (let k = 0; k < order.length; k++) {
            const from = k % n
            const to = (order[k] as number) % n
            Y.applyUpdate(docs[to] as Y.Doc, updates[from] as Uint8Array)
          }
          for (let from = 0; from < n; from++) {
            for (const d of docs) Y.applyUpdate(d, updates[from] as Uint8Array)
          }
          const snaps = sheets.map(snapshot)
          for (const s of snaps.slice(1)) expect(s).toEqual(snaps[0])
          const snap = snaps[0] as ReturnType<typeof snapshot>
          // No duplicated ids, no lost rows/columns: exactly (initial ∪ inserted) − deleted.
          expect(new Set(snap.rows).size).toBe(snap.rows.length)
          expect(new Set(snap.cols).size).toBe(snap.cols.length)
          const expected = (initial: readonly string[], added: Set<string>) =>
            [...initial, ...added].filter((id) => !deleted.has(id)).sort()
          expect([...snap.rows].sort()).toEqual(expected(initialRows, insertedRows))
          expect([...snap.cols].sort()).toEqual(expected(initialCols, insertedCols))
          // Every visible value sits under the row/column ids it was written to.
          for (const [key, v] of Object.entries(snap.cells)) {
            if (String(v).startsWith('=')) continue
            expect(writes.get(v as string)).toBe(key)
          }
          // Every write whose row and column survive is visible there (or overwritten at that key).
          for (const [v, key] of writes) {
            if (v.startsWith('f')) continue
            const [rid, cid] = key.split(':') as [string, string]
            if (snap.rows.includes(rid) && snap.cols.includes(cid)) {
              expect(snap.cells[key], `write ${v}`).toBeDefined()
            }
          }
        },
      ),
      { numRuns: 150 },
    )
  })
})
