import * as Y from 'yjs'
import { RICH_TEXT_FRAGMENT, RichText } from '../richtext/richtext.js'
import { newSheetId } from '../sheet/ids.js'
import { diffText, type TextDiffPart } from './diff.js'
import { VersionError } from './errors.js'
import { rootConstructor } from './roots.js'

/** Default name of the root `Y.Map` holding named versions. */
export const VERSIONS_ROOT = 'valv.versions'

/** A named version, as listed by {@link VersionHistory.list}. */
export interface VersionInfo {
  /** Stable id. */
  readonly id: string
  /** Name given when saving. */
  readonly name: string
  /** Who saved it, or `null`. */
  readonly author: string | null
  /** When it was saved, ms since the epoch. */
  readonly createdAt: number
}

/** Options of {@link VersionHistory}. */
export interface VersionHistoryOptions {
  /** Transaction origin of saves and restores (a restore is undoable under this origin). */
  readonly origin?: unknown
  /** Recorded as the author of saved versions. */
  readonly author?: string
  /** Clock, ms since the epoch. */
  readonly now?: () => number
  /** Root map name holding the versions. */
  readonly root?: string
  /**
   * Plain text of a document, for {@link VersionHistory.diff}. Defaults to the text of the rich
   * text fragment `valv.richtext`.
   */
  readonly text?: (doc: Y.Doc) => string
}

interface StoredVersion {
  readonly name: string
  readonly author: string | null
  readonly createdAt: number
  readonly snapshot: Uint8Array
}

/** A change to the version list. */
export interface VersionEvent {
  /** What happened to the version. */
  readonly type: 'saved' | 'renamed' | 'removed'
  /** The version concerned. */
  readonly id: string
  /** Whether this replica's history origin made the change. */
  readonly local: boolean
}

/** A version id, or `current` for the document as it is now. */
export type VersionRef = string | 'current'

/**
 * Named versions of a document as Yjs snapshots, stored in the document itself so every
 * collaborator sees them. Snapshots need deleted content to be kept, so the document **must be
 * created with `new Y.Doc({ gc: false })`** (the constructor throws `gc-enabled` otherwise); the
 * cost is that deleted content stays in the encrypted state, which also matters for redaction.
 * Restoring never rewrites history: it appends a change that makes the content equal to the old
 * version, which syncs to others like any edit.
 *
 * @example
 * ```ts
 * const doc = new Y.Doc({ gc: false })
 * const history = new VersionHistory(doc, { author: 'ann' })
 * const v1 = history.save('Draft for review')
 * // … edits …
 * history.diff(v1, 'current') // word diff of the plain text
 * history.restore(v1)         // content is the draft again, as a new change
 * ```
 */
export class VersionHistory {
  /** Transaction origin of saves and restores. */
  readonly origin: unknown
  private readonly versions: Y.Map<StoredVersion>
  private readonly rootName: string
  private readonly author: string | null
  private readonly now: () => number
  private readonly extract: (doc: Y.Doc) => string

  /** @param doc - A document created with `gc: false`. */
  constructor(
    readonly doc: Y.Doc,
    options: VersionHistoryOptions = {},
  ) {
    if (doc.gc) {
      throw new VersionError('gc-enabled', 'version history needs a Y.Doc created with gc: false')
    }
    this.origin = options.origin ?? this
    this.rootName = options.root ?? VERSIONS_ROOT
    this.versions = doc.getMap(this.rootName)
    this.author = options.author ?? null
    this.now = options.now ?? Date.now
    this.extract =
      options.text ?? ((d) => new RichText(d.getXmlFragment(RICH_TEXT_FRAGMENT)).toPlainText())
  }

  /** Save the current state as a named version; returns its id. */
  save(name: string): string {
    if (name.trim() === '') throw new VersionError('bad-argument', 'version name is empty')
    const snapshot = Y.encodeSnapshot(Y.snapshot(this.doc))
    const id = newSheetId()
    const v: StoredVersion = { name, author: this.author, createdAt: this.now(), snapshot }
    this.doc.transact(() => this.versions.set(id, v), this.origin)
    return id
  }

  /** Named versions, oldest first. */
  list(): VersionInfo[] {
    return [...this.versions.entries()]
      .map(([id, v]) => ({ id, name: v.name, author: v.author, createdAt: v.createdAt }))
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  /** Rename a version. */
  rename(id: string, name: string): void {
    if (name.trim() === '') throw new VersionError('bad-argument', 'version name is empty')
    const v = this.stored(id)
    this.doc.transact(() => this.versions.set(id, { ...v, name }), this.origin)
  }

  /** Forget a version (its content stays in the document's history). */
  remove(id: string): void {
    this.stored(id)
    this.doc.transact(() => this.versions.delete(id), this.origin)
  }

  /** The Yjs snapshot of a version. */
  snapshot(id: string): Y.Snapshot {
    return Y.decodeSnapshot(this.stored(id).snapshot)
  }

  /**
   * The document as it was at a version: a detached copy (`Y.createDocFromSnapshot`), so
   * editing it changes nothing shared. Bind viewers to it read-only.
   */
  view(id: string): Y.Doc {
    return Y.createDocFromSnapshot(this.doc, this.snapshot(id), new Y.Doc({ gc: false }))
  }

  /** Plain text of a version (or the current document). */
  text(ref: VersionRef): string {
    return this.extract(ref === 'current' ? this.doc : this.view(ref))
  }

  /** Word diff of the plain text from version `older` to version `newer`. */
  diff(older: VersionRef, newer: VersionRef): TextDiffPart[] {
    return diffText(this.text(older), this.text(newer))
  }

  /**
   * Make the content equal to version `id` again, as a new forward change under this history's
   * origin: changes made since are undone on a scratch copy, and the resulting update is applied
   * here. The version list itself is not rolled back.
   */
  restore(id: string): void {
    const scratch = Y.createDocFromSnapshot(this.doc, this.snapshot(id), new Y.Doc({ gc: false }))
    // Every root with content has been materialised in the live doc's `share`; watch the same
    // roots on the scratch copy (except the version list, which must keep later versions).
    const scope = [...this.doc.share.entries()]
      .filter(([name]) => name !== this.rootName)
      .map(([name, type]) => scratch.get(name, rootConstructor(type)))
    if (scope.length === 0) return
    const revertOrigin = Symbol('revert')
    const manager = new Y.UndoManager(scope, {
      trackedOrigins: new Set([revertOrigin]),
      captureTimeout: Number.POSITIVE_INFINITY,
    })
    const now = Y.encodeStateVector(this.doc)
    Y.applyUpdate(
      scratch,
      Y.encodeStateAsUpdate(this.doc, Y.encodeStateVector(scratch)),
      revertOrigin,
    )
    manager.undo()
    manager.destroy()
    Y.applyUpdate(this.doc, Y.encodeStateAsUpdate(scratch, now), this.origin)
  }

  /** Subscribe to changes of the version list; returns the unsubscribe function. */
  observe(listener: (e: VersionEvent) => void): () => void {
    const kinds = { add: 'saved', update: 'renamed', delete: 'removed' } as const
    const handler = (ev: Y.YMapEvent<StoredVersion>, tr: Y.Transaction) => {
      for (const [id, change] of ev.changes.keys) {
        listener({ type: kinds[change.action], id, local: tr.origin === this.origin })
      }
    }
    this.versions.observe(handler)
    return () => this.versions.unobserve(handler)
  }

  private stored(id: string): StoredVersion {
    const v = this.versions.get(id)
    if (!v) throw new VersionError('unknown-version', `no version ${id}`)
    return v
  }
}
