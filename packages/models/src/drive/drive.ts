import * as Y from 'yjs'
import { newSheetId as newId } from '../sheet/ids.js'
import { DriveError } from './errors.js'
import { SearchIndex } from './search.js'
import { type DriveMove, moveKey, parseMoveKey, type ResolvedTree, resolveTree } from './tree.js'
import {
  DRIVE_ROOT,
  DRIVE_TRASH,
  type DriveEvent,
  type DriveFileVersion,
  type DriveMetadataPatch,
  type DriveNode,
  type DriveNodeKind,
} from './types.js'

/** Options of {@link Drive}. */
export interface DriveOptions {
  /** Member using this replica: owner of new nodes and author of new versions. */
  readonly member: string
  /** Name prefix of the root map (default `valv.drive`). */
  readonly prefix?: string
  /** Origin stamped on this replica's transactions (default: the Drive instance). */
  readonly origin?: unknown
  /** Clock for created/modified times (default `Date.now`). */
  readonly now?: () => number
}

/** Options of {@link Drive.createFolder} and {@link Drive.createFile}. */
export interface DriveCreateOptions {
  /** Parent folder (default {@link DRIVE_ROOT}). */
  readonly parent?: string
  /** Initial metadata. */
  readonly metadata?: DriveMetadataPatch
}

/** What a caller supplies for a new file version; id, time and author are filled in. */
export type DriveVersionInput = Omit<DriveFileVersion, 'id' | 'createdAt' | 'author'>

type NodeMap = Y.Map<unknown>

const DATE = /^\d{4}-\d{2}-\d{2}$/
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const BAD_NAME = /[/\\\u0000-\u001f\u007f]/

function checkName(name: string): string {
  const n = typeof name === 'string' ? name.trim().normalize('NFC') : ''
  if (n === '' || n === '.' || n === '..' || n.length > 255 || BAD_NAME.test(n)) {
    throw new DriveError('invalid-name', `invalid name ${JSON.stringify(name)}`)
  }
  return n
}

function checkMetadata(p: DriveMetadataPatch): void {
  const bad = (what: string) => new DriveError('bad-argument', `invalid ${what}`)
  if (p.title !== undefined && (typeof p.title !== 'string' || p.title.length > 1000))
    throw bad('title')
  if (p.owner !== undefined && (typeof p.owner !== 'string' || p.owner === '')) throw bad('owner')
  const c = p.classification
  if (
    c !== undefined &&
    c !== null &&
    (typeof c !== 'string' || c.trim() === '' || c.length > 100)
  ) {
    throw bad('classification')
  }
  const r = p.retainUntil
  if (r !== undefined && r !== null && (!DATE.test(r) || Number.isNaN(Date.parse(r)))) {
    throw bad('retention date')
  }
}

/**
 * A drive: a tree of folders and files with metadata and file versions, on one `Y.Doc`.
 *
 * Tree rule: a node's place is not a single parent field but a grow-only log of moves in the
 * node's map, each stamped `(lamport, clientID)` where `lamport` is one more than the highest stamp
 * the writer has seen. The tree is computed by replaying all moves in stamp order; a move onto
 * the node itself or into its own subtree at that point is skipped (so concurrent moves can
 * never make a cycle), and so is a move into something that is not an existing folder. Delete
 * is a move into {@link DRIVE_TRASH}, so a deleted folder keeps its children (also concurrent
 * arrivals) and they are restored with it. Every replica holding the same moves computes the
 * same tree, and every node is reachable from root or trash. Renames and metadata are last
 * writer wins per field. Only {@link Drive.purge} removes nodes.
 *
 * @example
 * ```ts
 * const drive = new Drive(doc, { member: 'anna' })
 * const reports = drive.createFolder('Rapporter')
 * const file = drive.createFile('årsrapport.pdf', { parent: reports })
 * drive.addVersion(file, { blobId: 'b1', size: 1024, mimeType: 'application/pdf' })
 * drive.setMetadata(file, { classification: 'internal', retainUntil: '2030-12-31' })
 * drive.search('årsr') // [the file]
 * ```
 */
export class Drive {
  /** The document holding the drive. */
  readonly doc: Y.Doc
  /** Member using this replica. */
  readonly member: string
  /** Origin stamped on this replica's transactions. */
  readonly origin: unknown
  private readonly nodes: Y.Map<NodeMap>
  private readonly now: () => number
  private readonly listeners = new Set<(e: DriveEvent) => void>()
  private cache: ResolvedTree | null = null
  private searchCache: SearchIndex | null = null

  constructor(doc: Y.Doc, options: DriveOptions) {
    if (typeof options.member !== 'string' || options.member === '') {
      throw new DriveError('bad-argument', 'member id is empty')
    }
    this.doc = doc
    this.member = options.member
    this.origin = options.origin ?? this
    this.now = options.now ?? Date.now
    this.nodes = doc.getMap(`${options.prefix ?? 'valv.drive'}.nodes`)
    this.nodes.observeDeep(this.handler)
  }

  private readonly handler = (events: Y.YEvent<Y.AbstractType<unknown>>[]) => {
    this.invalidate()
    const ids = new Set<string>()
    for (const e of events) {
      const first = e.path[0]
      if (typeof first === 'string') ids.add(first)
      else for (const k of (e as Y.YMapEvent<unknown>).keysChanged) ids.add(k)
    }
    const ev: DriveEvent = { nodes: [...ids].sort() }
    for (const l of this.listeners) l(ev)
  }

  /** Stop observing the document (listeners are dropped; the data is untouched). */
  destroy(): void {
    this.nodes.unobserveDeep(this.handler)
    this.listeners.clear()
  }

  /** Subscribe to changes; returns the unsubscribe function. */
  observe(listener: (e: DriveEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private invalidate(): void {
    this.cache = null
    this.searchCache = null
  }

  private tx(fn: () => void): void {
    this.invalidate()
    this.doc.transact(fn, this.origin)
    this.invalidate()
  }

  private tree(): ResolvedTree {
    if (!this.cache) {
      const kinds = new Map<string, DriveNodeKind>()
      const moves: DriveMove[] = []
      for (const [id, m] of this.nodes.entries()) {
        kinds.set(id, m.get('kind') as DriveNodeKind)
        for (const [k, parent] of m.entries()) {
          const s = parseMoveKey(k)
          if (s) moves.push({ node: id, parent: parent as string, ...s })
        }
      }
      this.cache = resolveTree(kinds, moves)
    }
    return this.cache
  }

  private nodeMap(id: string): NodeMap {
    const m = this.nodes.get(id)
    if (!m) throw new DriveError('not-found', `no node ${id}`)
    return m
  }

  private folderTarget(parent: string): void {
    if (parent === DRIVE_ROOT) return
    if (parent === DRIVE_TRASH) throw new DriveError('bad-argument', 'use delete() to trash a node')
    if (this.nodeMap(parent).get('kind') !== 'folder') {
      throw new DriveError('not-a-folder', `${parent} is not a folder`)
    }
  }

  private recordMove(m: NodeMap, parent: string): void {
    m.set(moveKey(this.tree().maxLamport + 1, this.doc.clientID), parent)
    this.cache = null
  }

  private create(kind: DriveNodeKind, name: string, opts: DriveCreateOptions): string {
    const n = checkName(name)
    const parent = opts.parent ?? DRIVE_ROOT
    this.folderTarget(parent)
    if (opts.metadata) checkMetadata(opts.metadata)
    const id = newId()
    const t = this.now()
    const m = new Y.Map<unknown>()
    m.set('kind', kind)
    m.set('name', n)
    m.set('owner', this.member)
    m.set('createdAt', t)
    m.set('modifiedAt', t)
    if (kind === 'file') m.set('versions', new Y.Array<DriveFileVersion>())
    this.tx(() => {
      const lamport = this.tree().maxLamport + 1
      this.nodes.set(id, m)
      m.set(moveKey(lamport, this.doc.clientID), parent)
      if (opts.metadata) this.applyMetadata(m, opts.metadata)
    })
    return id
  }

  /** Create a folder; returns its id. */
  createFolder(name: string, opts: DriveCreateOptions = {}): string {
    return this.create('folder', name, opts)
  }

  /** Create a file entry (add content with {@link Drive.addVersion}); returns its id. */
  createFile(name: string, opts: DriveCreateOptions = {}): string {
    return this.create('file', name, opts)
  }

  /** Rename a node (last writer wins on concurrent renames). */
  rename(id: string, name: string): void {
    const n = checkName(name)
    const m = this.nodeMap(id)
    this.tx(() => {
      m.set('name', n)
      m.set('modifiedAt', this.now())
    })
  }

  /** Move a node into a folder (or root). Throws `cycle` for a move into its own subtree. */
  move(id: string, parent: string): void {
    const m = this.nodeMap(id)
    this.folderTarget(parent)
    if (this.ancestors(parent).includes(id) || parent === id) {
      throw new DriveError('cycle', `cannot move ${id} into its own subtree`)
    }
    this.tx(() => this.recordMove(m, parent))
  }

  /** Move a node (with its subtree) to the trash. */
  delete(id: string): void {
    const m = this.nodeMap(id)
    this.tx(() => this.recordMove(m, DRIVE_TRASH))
  }

  /** Move a trashed node back into a folder (default root). */
  restore(id: string, parent: string = DRIVE_ROOT): void {
    if (!this.isTrashed(id)) throw new DriveError('not-in-trash', `${id} is not in the trash`)
    this.move(id, parent)
  }

  /**
   * Permanently remove a trashed node and its subtree from the document. A move made
   * concurrently by another member into or out of the purged subtree loses to the purge.
   * Returns the versions of the purged files: their blobs are now unreferenced, so the app
   * deletes them (`deleteFile(provider, session, v.blobId)` of `@valv/provider-websocket`).
   */
  purge(id: string): DriveFileVersion[] {
    if (!this.isTrashed(id)) throw new DriveError('not-in-trash', `${id} is not in the trash`)
    const doomed = [id, ...this.descendants(id)]
    const versions = doomed.flatMap((d) => {
      const m = this.nodes.get(d)
      const list = m?.get('kind') === 'file' ? m.get('versions') : undefined
      return list instanceof Y.Array ? (list.toArray() as DriveFileVersion[]) : []
    })
    this.tx(() => {
      for (const d of doomed) this.nodes.delete(d)
    })
    return versions
  }

  /** Set metadata fields; `undefined` fields are left as they are. */
  setMetadata(id: string, patch: DriveMetadataPatch): void {
    checkMetadata(patch)
    const m = this.nodeMap(id)
    this.tx(() => this.applyMetadata(m, patch))
  }

  private applyMetadata(m: NodeMap, p: DriveMetadataPatch): void {
    if (p.title !== undefined) m.set('title', p.title)
    if (p.owner !== undefined) m.set('owner', p.owner)
    if (p.classification !== undefined) m.set('classification', p.classification?.trim() ?? null)
    if (p.retainUntil !== undefined) m.set('retainUntil', p.retainUntil)
    m.set('modifiedAt', this.now())
  }

  /** Add a version to a file; returns it. Concurrent additions are all kept. */
  addVersion(fileId: string, input: DriveVersionInput): DriveFileVersion {
    const m = this.nodeMap(fileId)
    if (m.get('kind') !== 'file') throw new DriveError('not-a-file', `${fileId} is not a file`)
    const ok =
      typeof input.blobId === 'string' &&
      input.blobId !== '' &&
      Number.isSafeInteger(input.size) &&
      input.size >= 0 &&
      typeof input.mimeType === 'string' &&
      input.mimeType !== '' &&
      (input.contentKeyRef === undefined || typeof input.contentKeyRef === 'string') &&
      (input.fileKey === undefined || /^[A-Za-z0-9_-]{1,200}$/.test(input.fileKey))
    if (!ok) throw new DriveError('bad-argument', 'invalid version')
    const v: DriveFileVersion = {
      id: newId(),
      blobId: input.blobId,
      size: input.size,
      mimeType: input.mimeType,
      createdAt: this.now(),
      author: this.member,
      ...(input.contentKeyRef === undefined ? {} : { contentKeyRef: input.contentKeyRef }),
      ...(input.fileKey === undefined ? {} : { fileKey: input.fileKey }),
    }
    this.tx(() => {
      ;(m.get('versions') as Y.Array<DriveFileVersion>).push([v])
      m.set('modifiedAt', v.createdAt)
    })
    return v
  }

  /** Versions of a file, oldest first (concurrent uploads in the same order everywhere). */
  versions(fileId: string): DriveFileVersion[] {
    const m = this.nodeMap(fileId)
    if (m.get('kind') !== 'file') throw new DriveError('not-a-file', `${fileId} is not a file`)
    return (m.get('versions') as Y.Array<DriveFileVersion>).toArray()
  }

  /** Newest version of a file, or `null` if it has none. */
  latestVersion(fileId: string): DriveFileVersion | null {
    return this.versions(fileId).at(-1) ?? null
  }

  /** A node with its effective place and metadata. */
  node(id: string): DriveNode {
    const m = this.nodeMap(id)
    const name = m.get('name') as string
    return {
      id,
      kind: m.get('kind') as DriveNodeKind,
      name,
      parent: this.tree().parent.get(id) ?? DRIVE_TRASH,
      title: (m.get('title') as string | undefined) || name,
      owner: m.get('owner') as string,
      createdAt: m.get('createdAt') as number,
      modifiedAt: m.get('modifiedAt') as number,
      classification: (m.get('classification') as string | null | undefined) ?? null,
      retainUntil: (m.get('retainUntil') as string | null | undefined) ?? null,
      trashed: this.isTrashed(id),
    }
  }

  /** Children of a folder, root or trash: folders first, then by name, then id. */
  children(id: string = DRIVE_ROOT): DriveNode[] {
    if (id !== DRIVE_ROOT && id !== DRIVE_TRASH && this.nodeMap(id).get('kind') !== 'folder') {
      throw new DriveError('not-a-folder', `${id} is not a folder`)
    }
    return (this.tree().children.get(id) ?? [])
      .map((c) => this.node(c))
      .sort(
        (a, b) =>
          (a.kind === b.kind ? 0 : a.kind === 'folder' ? -1 : 1) ||
          (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) ||
          (a.id < b.id ? -1 : 1),
      )
  }

  /** Ids from the node's parent up to root or trash (nearest first). */
  ancestors(id: string): string[] {
    const out: string[] = []
    const parent = this.tree().parent
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) out.push(p)
    return out
  }

  /** Ids of every node under a folder (depth first). */
  descendants(id: string): string[] {
    const out: string[] = []
    const kids = this.tree().children
    const walk = (n: string) => {
      for (const c of kids.get(n) ?? []) {
        out.push(c)
        walk(c)
      }
    }
    walk(id)
    return out
  }

  /** Whether a node is in the trash, directly or through a deleted ancestor. */
  isTrashed(id: string): boolean {
    this.nodeMap(id)
    return this.ancestors(id).at(-1) === DRIVE_TRASH
  }

  /** Ids of all nodes (in the tree or the trash). */
  nodeIds(): string[] {
    return [...this.nodes.keys()].sort()
  }

  /**
   * Search names, titles, owners, classification labels and retention dates. Every query word
   * must be a prefix of a word of the node; case and accents are ignored except for å ä ö.
   * Trashed nodes are left out unless `includeTrashed` is set.
   */
  search(query: string, opts: { includeTrashed?: boolean } = {}): DriveNode[] {
    if (!this.searchCache) {
      const ix = new SearchIndex()
      for (const [id, m] of this.nodes.entries()) {
        const texts = ['name', 'title', 'owner', 'classification', 'retainUntil']
          .map((k) => m.get(k))
          .filter((v): v is string => typeof v === 'string')
        ix.add(id, texts)
      }
      this.searchCache = ix
    }
    return [...this.searchCache.query(query)]
      .map((id) => this.node(id))
      .filter((n) => opts.includeTrashed || !n.trashed)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1))
  }
}
