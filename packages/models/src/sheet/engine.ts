import type * as Y from 'yjs'
import { type EvalScalar, evalError, evaluateFormula } from './formula-eval.js'
import { type FormulaNode, type FormulaRef, parseFormula } from './formula-parser.js'
import { sheetCellKey } from './ids.js'
import type { SheetStoredCell } from './types.js'

/**
 * Local formula evaluation for one sheet. Values are cached here and never written to the
 * document: every replica derives them from the stored inputs, so they cannot disagree with them.
 * A reverse dependency graph (precedent key → dependent keys) limits invalidation to the cells
 * that can change; structural changes (row/column insert/delete) clear everything, since they
 * change what each range covers.
 */
export class SheetEngine {
  private readonly cache = new Map<string, EvalScalar>()
  private readonly dependents = new Map<string, Set<string>>()
  private readonly asts = new Map<string, FormulaNode | Error>()
  private readonly stack: string[] = []
  private readonly onStack = new Set<string>()
  private readonly cyclic = new Set<string>()
  private rowIndex: Map<string, number> | null = null
  private colIndex: Map<string, number> | null = null
  private rowArr: string[] | null = null
  private colArr: string[] | null = null

  constructor(
    private readonly rows: Y.Array<string>,
    private readonly cols: Y.Array<string>,
    private readonly cells: Y.Map<SheetStoredCell>,
  ) {}

  /** Forget everything (after a structural change). */
  reset(): void {
    this.cache.clear()
    this.dependents.clear()
    this.cyclic.clear()
    this.rowIndex = null
    this.colIndex = null
    this.rowArr = null
    this.colArr = null
  }

  /** Drop cached values of `keys` and of everything that depends on them; returns all dropped. */
  invalidate(keys: Iterable<string>): Set<string> {
    const seen = new Set<string>()
    const todo = [...keys]
    while (todo.length > 0) {
      const k = todo.pop() as string
      if (seen.has(k)) continue
      seen.add(k)
      this.cache.delete(k)
      this.cyclic.delete(k)
      const deps = this.dependents.get(k)
      if (deps) for (const d of deps) todo.push(d)
    }
    return seen
  }

  /** Current index of a row id, or undefined once deleted. */
  rowOf(id: string): number | undefined {
    if (!this.rowIndex) this.rowIndex = new Map(this.rowIds().map((r, i) => [r, i]))
    return this.rowIndex.get(id)
  }

  /** Current index of a column id, or undefined once deleted. */
  colOf(id: string): number | undefined {
    if (!this.colIndex) this.colIndex = new Map(this.colIds().map((c, i) => [c, i]))
    return this.colIndex.get(id)
  }

  /** Evaluated value of the cell stored under `key`. */
  value(key: string): EvalScalar {
    const stored = this.cells.get(key)
    if (stored === undefined) return null
    if (typeof stored !== 'object') return stored
    const hit = this.cache.get(key)
    if (hit !== undefined) return hit
    if (this.onStack.has(key)) {
      // Every cell from the first visit of `key` up to here is part of the cycle.
      for (let i = this.stack.lastIndexOf(key); i < this.stack.length; i++) {
        this.cyclic.add(this.stack[i] as string)
      }
      return evalError('#CIRC!')
    }
    this.stack.push(key)
    this.onStack.add(key)
    let result: EvalScalar
    try {
      const ast = this.parse(stored.f)
      result = ast instanceof Error ? ast : evaluateFormula(ast, this.context(key))
    } finally {
      this.stack.pop()
      this.onStack.delete(key)
    }
    if (this.cyclic.has(key)) result = evalError('#CIRC!')
    this.cache.set(key, result)
    return result
  }

  private parse(f: string): FormulaNode | Error {
    let ast = this.asts.get(f)
    if (ast === undefined) {
      try {
        ast = parseFormula(f)
      } catch {
        ast = evalError('#NAME?')
      }
      if (this.asts.size > 10_000) this.asts.clear()
      this.asts.set(f, ast)
    }
    return ast
  }

  private depend(from: string, on: string): void {
    let set = this.dependents.get(on)
    if (!set) {
      set = new Set()
      this.dependents.set(on, set)
    }
    set.add(from)
  }

  private context(self: string) {
    const resolve = (ref: FormulaRef): [number, number] | null => {
      if (ref.kind === 'a1') return [ref.row, ref.col]
      const r = this.rowOf(ref.rowId)
      const c = this.colOf(ref.colId)
      return r === undefined || c === undefined ? null : [r, c]
    }
    return {
      cell: (ref: FormulaRef): EvalScalar => {
        const pos = resolve(ref)
        if (!pos) return evalError('#REF!')
        const key = this.keyAt(pos[0], pos[1])
        if (key === null) return evalError('#REF!')
        this.depend(self, key)
        return this.value(key)
      },
      range: (from: FormulaRef, to: FormulaRef): EvalScalar[][] => {
        const a = resolve(from)
        const b = resolve(to)
        if (!a || !b) return [[evalError('#REF!')]]
        const out: EvalScalar[][] = []
        for (let r = Math.min(a[0], b[0]); r <= Math.max(a[0], b[0]); r++) {
          const row: EvalScalar[] = []
          for (let c = Math.min(a[1], b[1]); c <= Math.max(a[1], b[1]); c++) {
            const key = this.keyAt(r, c)
            if (key === null) return [[evalError('#REF!')]]
            this.depend(self, key)
            row.push(this.value(key))
          }
          out.push(row)
        }
        return out
      },
    }
  }

  /** Row ids in order (cached until the next structural change). */
  rowIds(): string[] {
    this.rowArr ??= this.rows.toArray()
    return this.rowArr
  }

  /** Column ids in order (cached until the next structural change). */
  colIds(): string[] {
    this.colArr ??= this.cols.toArray()
    return this.colArr
  }

  private keyAt(row: number, col: number): string | null {
    const r = this.rowIds()[row]
    const c = this.colIds()[col]
    return r === undefined || c === undefined ? null : sheetCellKey(r, c)
  }
}
