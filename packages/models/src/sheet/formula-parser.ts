import { parseSheetAddress } from './address.js'
import { SheetError } from './errors.js'

/**
 * A cell reference inside a formula: either as typed (`a1`) or as stored (`ids`, the stable row
 * and column ids, written `{rowId:colId}` in the stored formula text).
 */
export type FormulaRef =
  | { readonly kind: 'a1'; readonly row: number; readonly col: number }
  | { readonly kind: 'ids'; readonly rowId: string; readonly colId: string }

/** Formula syntax tree. */
export type FormulaNode =
  | { readonly type: 'number'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'error'; readonly code: string }
  | { readonly type: 'ref'; readonly ref: FormulaRef }
  | { readonly type: 'range'; readonly from: FormulaRef; readonly to: FormulaRef }
  | { readonly type: 'unary'; readonly op: '-' | '+' | '%'; readonly arg: FormulaNode }
  | {
      readonly type: 'binary'
      readonly op: string
      readonly left: FormulaNode
      readonly right: FormulaNode
    }
  | { readonly type: 'call'; readonly name: string; readonly args: readonly FormulaNode[] }

/** One lexical token with its source span (used to rewrite references in place). */
export interface FormulaToken {
  readonly kind: 'number' | 'string' | 'ident' | 'ref' | 'error' | 'op' | 'paren' | 'comma'
  readonly text: string
  readonly start: number
  readonly end: number
  readonly ref?: FormulaRef
}

const ERRORS = ['#DIV/0!', '#N/A', '#NAME?', '#NULL!', '#NUM!', '#REF!', '#VALUE!', '#CIRC!']
const NUMBER = /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/
const IDENT = /^[A-Za-z_][A-Za-z0-9_.]*/
const A1REF = /^\$?[A-Za-z]{1,3}\$?[1-9][0-9]{0,6}(?![A-Za-z0-9_.(])/
const IDREF = /^\{([a-z0-9]+):([a-z0-9]+)\}/
const OPS = ['<=', '>=', '<>', '+', '-', '*', '/', '^', '&', '=', '<', '>', '%', ':']

function fail(msg: string): never {
  throw new SheetError('bad-formula', msg)
}

/** Split formula text (without the leading `=`) into tokens. */
export function tokenizeFormula(src: string): FormulaToken[] {
  const out: FormulaToken[] = []
  let i = 0
  while (i < src.length) {
    const ch = src[i] as string
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++
      continue
    }
    const rest = src.slice(i)
    const push = (kind: FormulaToken['kind'], len: number, ref?: FormulaRef): void => {
      const tok = { kind, text: src.slice(i, i + len), start: i, end: i + len }
      out.push(ref ? { ...tok, ref } : tok)
      i += len
    }
    if (ch === '"') {
      let j = i + 1
      for (;;) {
        if (j >= src.length) fail('unterminated string')
        if (src[j] === '"') {
          if (src[j + 1] === '"') j += 2
          else break
        } else j++
      }
      push('string', j + 1 - i)
      continue
    }
    if (ch === '#') {
      const code = ERRORS.find((e) => rest.toUpperCase().startsWith(e))
      if (!code) fail(`unknown error literal at ${i}`)
      push('error', code.length)
      continue
    }
    const idm = IDREF.exec(rest)
    if (idm) {
      push('ref', idm[0].length, { kind: 'ids', rowId: idm[1] as string, colId: idm[2] as string })
      continue
    }
    const refm = A1REF.exec(rest)
    if (refm) {
      const pos = parseSheetAddress(refm[0])
      push('ref', refm[0].length, { kind: 'a1', row: pos.row, col: pos.col })
      continue
    }
    const num = NUMBER.exec(rest)
    if (num) {
      push('number', num[0].length)
      continue
    }
    const id = IDENT.exec(rest)
    if (id) {
      push('ident', id[0].length)
      continue
    }
    if (ch === '(' || ch === ')') {
      push('paren', 1)
      continue
    }
    if (ch === ',' || ch === ';') {
      push('comma', 1)
      continue
    }
    const op = OPS.find((o) => rest.startsWith(o))
    if (op) {
      push('op', op.length)
      continue
    }
    fail(`unexpected character '${ch}' at ${i}`)
  }
  return out
}

const COMPARE = new Set(['=', '<>', '<', '>', '<=', '>='])

/**
 * Parse formula text (with or without the leading `=`) into a syntax tree. Precedence follows
 * Excel: comparison < `&` < `+ -` < `* /` < `^` < unary minus < `%` < `:`.
 *
 * @example
 * ```ts
 * parseFormula('=SUM(A1:A3)*2')
 * ```
 */
export function parseFormula(text: string): FormulaNode {
  const src = text.startsWith('=') ? text.slice(1) : text
  const toks = tokenizeFormula(src)
  let p = 0
  const peek = (): FormulaToken | undefined => toks[p]
  const isOp = (t: FormulaToken | undefined, ops: Set<string> | string): boolean =>
    t?.kind === 'op' && (typeof ops === 'string' ? t.text === ops : ops.has(t.text))
  const binary = (next: () => FormulaNode, ops: Set<string>): (() => FormulaNode) => {
    return () => {
      let left = next()
      while (isOp(peek(), ops)) {
        const op = (toks[p++] as FormulaToken).text
        left = { type: 'binary', op, left, right: next() }
      }
      return left
    }
  }
  const primary = (): FormulaNode => {
    const t = toks[p++]
    if (!t) fail('unexpected end of formula')
    switch (t.kind) {
      case 'number':
        return { type: 'number', value: Number(t.text) }
      case 'string':
        return { type: 'string', value: t.text.slice(1, -1).replaceAll('""', '"') }
      case 'error':
        return { type: 'error', code: t.text.toUpperCase() }
      case 'ref': {
        const from = t.ref as FormulaRef
        if (isOp(peek(), ':')) {
          p++
          const u = toks[p++]
          if (u?.kind !== 'ref' || !u.ref) fail('expected a reference after ":"')
          return { type: 'range', from, to: u.ref }
        }
        return { type: 'ref', ref: from }
      }
      case 'ident': {
        const name = t.text.toUpperCase()
        if (peek()?.text === '(') {
          p++
          const args: FormulaNode[] = []
          if (peek()?.text === ')') {
            p++
            return { type: 'call', name, args }
          }
          for (;;) {
            args.push(comparison())
            const sep = toks[p++]
            if (sep?.text === ')') break
            if (sep?.kind !== 'comma') fail('expected "," or ")" in argument list')
          }
          return { type: 'call', name, args }
        }
        if (name === 'TRUE' || name === 'FALSE') return { type: 'boolean', value: name === 'TRUE' }
        return fail(`unknown name ${t.text}`)
      }
      case 'paren': {
        if (t.text !== '(') fail('unexpected ")"')
        const inner = comparison()
        if (toks[p++]?.text !== ')') fail('missing ")"')
        return inner
      }
      default:
        return fail(`unexpected token ${t.text}`)
    }
  }
  const postfix = (): FormulaNode => {
    let node = primary()
    while (isOp(peek(), '%')) {
      p++
      node = { type: 'unary', op: '%', arg: node }
    }
    return node
  }
  const unary = (): FormulaNode => {
    const t = peek()
    if (isOp(t, '-') || isOp(t, '+')) {
      p++
      return { type: 'unary', op: (t as FormulaToken).text as '-' | '+', arg: unary() }
    }
    return postfix()
  }
  const power = binary(unary, new Set(['^']))
  const mult = binary(power, new Set(['*', '/']))
  const add = binary(mult, new Set(['+', '-']))
  const concat = binary(add, new Set(['&']))
  const comparison = binary(concat, COMPARE)
  const tree = comparison()
  if (p !== toks.length) fail(`unexpected ${toks[p]?.text ?? 'token'} after expression`)
  return tree
}

/**
 * Rewrite every reference token of `text` with `map`, leaving all other characters as typed.
 * Used to store formulas with stable ids and to show them again as A1.
 */
export function rewriteFormulaRefs(text: string, map: (ref: FormulaRef) => string): string {
  const body = text.startsWith('=') ? text.slice(1) : text
  let out = ''
  let last = 0
  for (const t of tokenizeFormula(body)) {
    if (t.kind !== 'ref' || !t.ref) continue
    out += body.slice(last, t.start) + map(t.ref)
    last = t.end
  }
  return `=${out}${body.slice(last)}`
}
