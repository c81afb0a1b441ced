import * as formulajs from '@formulajs/formulajs'
import type { FormulaNode, FormulaRef } from './formula-parser.js'

/** A value during evaluation; errors are `Error`s whose message is the Excel code (as formulajs). */
export type EvalScalar = number | string | boolean | Date | Error | null

/** What the evaluator needs from a sheet. */
export interface FormulaContext {
  /** Value of one referenced cell (evaluating it first if it holds a formula). */
  cell(ref: FormulaRef): EvalScalar
  /** Values of a rectangle, row by row. */
  range(from: FormulaRef, to: FormulaRef): EvalScalar[][]
}

/** Excel names whose formulajs function lives under another name. */
const ALIASES: Record<string, string> = {
  STDEV: 'STDEV.S',
  STDEVP: 'STDEV.P',
  VAR: 'VAR.S',
  VARP: 'VAR.P',
}

// formulajs recognises errors by identity (IFERROR, ISERROR), so reuse its singletons.
const SINGLETONS = new Map<string, Error>(
  Object.values(formulajs.utils.errors as Record<string, Error>).map((e) => [e.message, e]),
)

/** Excel error value as formulajs represents it (its own singleton where one exists). */
export function evalError(code: string): Error {
  let e = SINGLETONS.get(code)
  if (!e) {
    e = new Error(code)
    SINGLETONS.set(code, e)
  }
  return e
}

function lookup(name: string): ((...args: unknown[]) => unknown) | undefined {
  const path = (ALIASES[name] ?? name).split('.')
  let cur: unknown = formulajs
  for (const part of path) {
    if (cur === null || (typeof cur !== 'object' && typeof cur !== 'function')) return undefined
    if (!Object.hasOwn(cur, part)) return undefined
    cur = (cur as Record<string, unknown>)[part]
  }
  return typeof cur === 'function' ? (cur as (...args: unknown[]) => unknown) : undefined
}

const EPOCH = Date.UTC(1899, 11, 30)

function toNumber(v: EvalScalar): number | Error {
  if (v instanceof Error) return v
  if (v === null) return 0
  if (typeof v === 'number') return v
  if (typeof v === 'boolean') return v ? 1 : 0
  if (v instanceof Date) {
    // Excel serial date: days since 1899-12-30 in local calendar terms.
    const local = Date.UTC(v.getFullYear(), v.getMonth(), v.getDate())
    return (local - EPOCH) / 86_400_000
  }
  const t = v.trim()
  const n = t === '' ? Number.NaN : Number(t)
  return Number.isFinite(n) ? n : evalError('#VALUE!')
}

function toText(v: EvalScalar): string | Error {
  if (v instanceof Error) return v
  if (v === null) return ''
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE'
  if (v instanceof Date) return v.toISOString().slice(0, 10)
  return String(v)
}

function rank(v: EvalScalar): number {
  if (typeof v === 'string') return 1
  if (typeof v === 'boolean') return 2
  return 0
}

function compare(a: EvalScalar, b: EvalScalar): number {
  // Excel: an empty cell compares as 0, "" or FALSE depending on the other side.
  const x = a === null ? (typeof b === 'string' ? '' : typeof b === 'boolean' ? false : 0) : a
  const y = b === null ? (typeof x === 'string' ? '' : typeof x === 'boolean' ? false : 0) : b
  const rx = rank(x)
  const ry = rank(y)
  if (rx !== ry) return rx - ry
  if (rx === 1) {
    const s = String(x).toLowerCase()
    const t = String(y).toLowerCase()
    return s < t ? -1 : s > t ? 1 : 0
  }
  const nx = toNumber(x) as number
  const ny = toNumber(y) as number
  return nx < ny ? -1 : nx > ny ? 1 : 0
}

function arith(op: string, a: number, b: number): EvalScalar {
  switch (op) {
    case '+':
      return a + b
    case '-':
      return a - b
    case '*':
      return a * b
    case '/':
      return b === 0 ? evalError('#DIV/0!') : a / b
    default: {
      const r = a ** b
      return Number.isFinite(r) ? r : evalError('#NUM!')
    }
  }
}

function binary(op: string, a: EvalScalar, b: EvalScalar): EvalScalar {
  if (a instanceof Error) return a
  if (b instanceof Error) return b
  if (op === '&') return `${toText(a) as string}${toText(b) as string}`
  const c = op.length === 2 || op === '=' || op === '<' || op === '>' ? compare(a, b) : null
  if (c !== null) {
    if (op === '=') return c === 0
    if (op === '<>') return c !== 0
    if (op === '<') return c < 0
    if (op === '>') return c > 0
    if (op === '<=') return c <= 0
    return c >= 0
  }
  const x = toNumber(a)
  if (x instanceof Error) return x
  const y = toNumber(b)
  if (y instanceof Error) return y
  return arith(op, x, y)
}

function normalize(v: unknown): EvalScalar {
  if (v === undefined) return null
  if (v instanceof Error) return SINGLETONS.get(v.message) === v ? v : evalError(v.message)
  if (typeof v === 'number') return Number.isFinite(v) ? v : evalError('#NUM!')
  if (typeof v === 'string' || typeof v === 'boolean' || v === null || v instanceof Date) return v
  // A function returning an array in a single cell shows its first element, as Excel does.
  if (Array.isArray(v)) return normalize(Array.isArray(v[0]) ? v[0][0] : v[0])
  return evalError('#VALUE!')
}

/**
 * Evaluate a syntax tree. Functions come from @formulajs/formulajs; ranges are passed to them as
 * two-dimensional arrays, so lookup functions (VLOOKUP, INDEX, MATCH) see the table shape.
 */
export function evaluateFormula(node: FormulaNode, ctx: FormulaContext): EvalScalar {
  switch (node.type) {
    case 'number':
    case 'string':
    case 'boolean':
      return node.value
    case 'error':
      return evalError(node.code)
    case 'ref':
      return ctx.cell(node.ref)
    case 'range': {
      // A bare range outside a function call: Excel's implicit intersection is out of scope.
      return evalError('#VALUE!')
    }
    case 'unary': {
      const v = toNumber(evaluateFormula(node.arg, ctx))
      if (v instanceof Error) return v
      return node.op === '-' ? -v : node.op === '%' ? v / 100 : v
    }
    case 'binary':
      return binary(node.op, evaluateFormula(node.left, ctx), evaluateFormula(node.right, ctx))
    case 'call': {
      const fn = lookup(node.name)
      if (!fn) return evalError('#NAME?')
      const args = node.args.map((a) =>
        a.type === 'range' ? ctx.range(a.from, a.to) : evaluateFormula(a, ctx),
      )
      try {
        return normalize(fn(...args))
      } catch {
        return evalError('#VALUE!')
      }
    }
  }
}
