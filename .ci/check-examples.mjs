#!/usr/bin/env node
// Typechecks the code a reader copies: every `@example` in packages/*/src and every ```ts block
// in README.md and docs/*.md. Each snippet becomes its own module under
// node_modules/.cache/valv-examples, compiled with the repository's strict settings against the
// package sources. A snippet may leave out its imports and the variables its surroundings give
// it (`doc`, `session`, …): names exported by a @valv package (preferring the snippet's own),
// `Y` for yjs, and the context variables in CONTEXT below are declared for it. Anything else it
// uses must be declared by the snippet itself, so a renamed API or a wrong option fails here.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..')
const OUT = join(ROOT, 'node_modules', '.cache', 'valv-examples')

/**
 * Variables a snippet may use without declaring, because the prose around it introduces them.
 * Keep this list short and the types exact: it is what the examples are checked against.
 */
const CONTEXT = {
  me: 'declare const me: Identity',
  anna: 'declare const anna: Identity',
  them: 'declare const them: Identity',
  session: 'declare const session: DocumentSession',
  doc: 'declare const doc: Y.Doc',
  ydoc: 'declare const ydoc: Y.Doc',
  provider: 'declare const provider: WebsocketProvider',
  binding: 'declare const binding: EncryptedDoc',
  storage: 'declare const storage: StorageAdapter',
  colleagueCard: 'declare const colleagueCard: string',
  passphrase: 'declare const passphrase: string',
  link: 'declare const link: string',
  docId: 'declare const docId: string',
  url: 'declare const url: string',
  file: 'declare const file: File',
  element: 'declare const element: HTMLElement',
  textarea: 'declare const textarea: HTMLTextAreaElement',
  text: 'declare const text: RichText',
  chat: 'declare const chat: Chat',
  drive: 'declare const drive: Drive',
  sheet: 'declare const sheet: Sheet',
  comments: 'declare const comments: Comments',
  relay: 'declare const relay: Relay',
  socket: 'declare const socket: WebSocket',
  bytes: 'declare const bytes: Uint8Array',
  chain: 'declare const chain: readonly Uint8Array[]',
  contentDoc: 'declare const contentDoc: Y.Doc',
  upload: 'declare function upload(blobId: string): WritableStream<Uint8Array>',
  download: 'declare function download(blobId: string): ReadableStream<Uint8Array>',
}

/** Where an exported name is taken from when several packages export it. */
const PREFERRED = ['@valv/crypto', '@valv/core', '@valv/provider-websocket', '@valv/storage']

function walk(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })
}

const packages = readdirSync(join(ROOT, 'packages'))
  .map((name) => join(ROOT, 'packages', name))
  .filter((dir) => {
    try {
      return statSync(join(dir, 'src', 'index.ts')).isFile()
    } catch {
      return false
    }
  })
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  // Private packages (@valv/test-utils) are test fixtures, not API a reader copies from.
  .filter(({ pkg }) => pkg.private !== true)
  .map(({ dir, pkg }) => ({ dir, name: pkg.name }))

/** @returns {{ origin: string, line: number, code: string, pkg?: string }[]} */
function snippets() {
  const found = []
  for (const { dir, name } of packages) {
    for (const file of walk(join(dir, 'src'))) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue
      const lines = readFileSync(file, 'utf8').split('\n')
      for (let i = 0; i < lines.length; i++) {
        if (!/^\s*\*\s*@example\b/.test(lines[i])) continue
        // The example runs to the next tag or the end of the comment.
        const body = []
        let j = i + 1
        for (; j < lines.length; j++) {
          const line = lines[j]
          if (/^\s*\*\//.test(line) || /^\s*\*\s*@\w+/.test(line)) break
          body.push({ n: j + 1, text: line.replace(/^\s*\* ?/, '') })
        }
        const fenced = body.some((l) => l.text.startsWith('```'))
        if (!fenced) {
          const code = body.filter((l) => l.text.trim() !== '')
          if (code.length)
            found.push({ origin: file, line: code[0].n, code: texts(code), pkg: name })
        } else {
          for (const block of fences(body)) found.push({ origin: file, ...block, pkg: name })
        }
        i = j - 1
      }
    }
  }
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(ROOT, 'docs', f))
  for (const file of [join(ROOT, 'README.md'), ...docs]) {
    const body = readFileSync(file, 'utf8')
      .split('\n')
      .map((text, i) => ({ n: i + 1, text }))
    for (const block of fences(body)) found.push({ origin: file, ...block })
  }
  return found
}

function texts(lines) {
  return lines.map((l) => l.text).join('\n')
}

/** The ```ts / ```typescript blocks of a list of numbered lines. */
function fences(lines) {
  const blocks = []
  let open
  for (const line of lines) {
    const fence = /^\s*```(\w*)/.exec(line.text)
    if (fence && open === undefined) {
      open = { lang: fence[1], lines: [] }
    } else if (fence) {
      if (['ts', 'typescript'].includes(open.lang) && open.lines.length) {
        blocks.push({ line: open.lines[0].n, code: texts(open.lines) })
      }
      open = undefined
    } else if (open) {
      open.lines.push(line)
    }
  }
  return blocks
}

/**
 * What a snippet may import without saying so: name → [{ from, type }], best source first. For
 * an `@example` in an internal file, that file's own exports come first (imported relatively),
 * then its package's, then every other package's.
 */
function exportedNames(sourceFiles) {
  const entries = packages.map(({ dir }) => join(dir, 'src', 'index.ts'))
  const program = ts.createProgram([...entries, ...sourceFiles], compilerOptions())
  const checker = program.getTypeChecker()
  const exportsOf = (file) => {
    const source = program.getSourceFile(file)
    const symbol = source && checker.getSymbolAtLocation(source)
    const names = new Map()
    for (const exported of symbol ? checker.getExportsOfModule(symbol) : []) {
      const target =
        exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
      names.set(exported.name, (target.flags & ts.SymbolFlags.Value) === 0)
    }
    return names
  }
  const byPackage = new Map(
    packages.map(({ dir, name }) => [name, exportsOf(join(dir, 'src', 'index.ts'))]),
  )
  const order = [...PREFERRED, ...packages.map((p) => p.name).filter((n) => !PREFERRED.includes(n))]
  return {
    byPackage,
    order,
    ofFile: (file) => exportsOf(file),
  }
}

function compilerOptions() {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.base.json'), ts.sys.readFile)
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT)
  return { ...parsed.options, noEmit: true, noUnusedLocals: false }
}

/** Names the snippet declares or imports itself (rough, but errs on the side of declaring). */
function declaredIn(code) {
  const names = new Set()
  const source = ts.createSourceFile('x.ts', code, ts.ScriptTarget.ES2022, true)
  const visit = (node) => {
    if (
      (ts.isVariableDeclaration(node) ||
        ts.isFunctionDeclaration(node) ||
        ts.isClassDeclaration(node) ||
        ts.isInterfaceDeclaration(node) ||
        ts.isTypeAliasDeclaration(node) ||
        ts.isEnumDeclaration(node) ||
        ts.isParameter(node) ||
        ts.isBindingElement(node) ||
        ts.isImportSpecifier(node) ||
        ts.isNamespaceImport(node) ||
        ts.isImportClause(node)) &&
      node.name &&
      ts.isIdentifier(node.name)
    ) {
      names.add(node.name.text)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return names
}

/** Identifiers the code refers to (not property names after a dot or in an object literal). */
function usedIn(code) {
  const names = new Set()
  const source = ts.createSourceFile('x.ts', code, ts.ScriptTarget.ES2022, true)
  const visit = (node) => {
    if (ts.isIdentifier(node)) {
      const parent = node.parent
      const isMember =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        (ts.isQualifiedName(parent) && parent.right === node) ||
        (ts.isPropertyAssignment(parent) && parent.name === node) ||
        (ts.isPropertySignature(parent) && parent.name === node) ||
        (ts.isMethodDeclaration(parent) && parent.name === node)
      if (!isMember) names.add(node.text)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return names
}

/** Bare modules the snippet imports that this workspace does not install (editors, jose…). */
function uninstalled(code, from) {
  const missing = []
  for (const { fileName } of ts.preProcessFile(code, true, true).importedFiles) {
    if (fileName.startsWith('.') || fileName.startsWith('node:')) continue
    const found = ts.resolveModuleName(fileName, from, compilerOptions(), ts.sys)
    if (!found.resolvedModule) missing.push(fileName)
  }
  return missing
}

function preambleFor(snippet, file, known) {
  const declared = declaredIn(snippet.code)
  const context = []
  for (const name of usedIn(snippet.code)) {
    if (Object.hasOwn(CONTEXT, name) && !declared.has(name)) context.push(CONTEXT[name])
  }
  const text = `${snippet.code}\n${context.join('\n')}`
  const sources = []
  if (snippet.pkg) {
    const own = relative(dirname(file), snippet.origin).replace(/\.ts$/, '.js')
    sources.push([own, known.ofFile(snippet.origin)])
    sources.push([snippet.pkg, known.byPackage.get(snippet.pkg)])
  }
  for (const name of known.order) sources.push([name, known.byPackage.get(name)])
  const imports = new Map()
  for (const name of usedIn(text)) {
    if (declared.has(name)) continue
    const source = sources.find(([, names]) => names?.has(name))
    if (!source) continue
    const [from, names] = source
    const spec = names.get(name) ? `type ${name}` : name
    imports.set(from, [...(imports.get(from) ?? []), spec])
  }
  const lines = [...imports].map(([from, names]) => `import { ${names.join(', ')} } from '${from}'`)
  if (usedIn(text).has('Y') && !declared.has('Y')) lines.push(`import * as Y from 'yjs'`)
  return [...lines, ...context, 'export {}']
}

const all = snippets()
const known = exportedNames([...new Set(all.filter((s) => s.pkg).map((s) => s.origin))])
rmSync(OUT, { recursive: true, force: true })
mkdirSync(OUT, { recursive: true })
const files = new Map()
const shims = new Set()
all.forEach((snippet, i) => {
  const slug = relative(ROOT, snippet.origin).replace(/[^\w]+/g, '-')
  const file = join(OUT, `${String(i).padStart(3, '0')}-${slug}-${snippet.line}.ts`)
  const preamble = preambleFor(snippet, file, known)
  for (const name of uninstalled(snippet.code, file)) shims.add(name)
  writeFileSync(file, `${preamble.join('\n')}\n${snippet.code}\n`)
  files.set(file, { ...snippet, offset: preamble.length })
})
// Third-party modules a guide shows but the workspace does not install: typed `any`, so the
// Valv calls around them are still checked.
const shimFile = join(OUT, 'uninstalled.d.ts')
writeFileSync(shimFile, [...shims].map((name) => `declare module '${name}'`).join('\n'))

const program = ts.createProgram([...files.keys(), shimFile], compilerOptions())
const diagnostics = ts
  .getPreEmitDiagnostics(program)
  .filter((d) => d.file && files.has(d.file.fileName))
for (const d of diagnostics) {
  const snippet = files.get(d.file.fileName)
  const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0)
  const at = line < snippet.offset ? 'preamble' : snippet.line + line - snippet.offset
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n  ')
  console.error(`${relative(ROOT, snippet.origin)}:${at}  ${message}`)
}
const failing = new Set(diagnostics.map((d) => d.file.fileName)).size
if (failing) {
  console.error(
    `\n${failing} of ${files.size} examples do not typecheck (generated in ${relative(ROOT, OUT)})`,
  )
  process.exit(1)
}
console.log(`${files.size} examples typecheck`)
if (shims.size) console.log(`(typed as any, not installed here: ${[...shims].sort().join(', ')})`)
