import * as Y from 'yjs'

/** Options of {@link UserUndo.forTypes}. */
export interface UserUndoOptions {
  /** Edits closer together than this many ms merge into one undo step (default 500). */
  readonly captureTimeout?: number
}

/** The state of an undo history, reported whenever it changes. */
export interface UndoState {
  /** Whether {@link UserUndo.undo} would do something. */
  readonly canUndo: boolean
  /** Whether {@link UserUndo.redo} would do something. */
  readonly canRedo: boolean
}

/**
 * Per-user undo/redo over a `Y.UndoManager` that tracks only this user's transaction origins:
 * undo reverts the user's own last step and never another user's edit, even one made to the same
 * paragraph or cell afterwards (Yjs undo is selective, like Google Docs, not a global rewind).
 * Get one per model with {@link richTextUndo}, {@link sheetUndo}, {@link presentationUndo},
 * {@link commentsUndo}, or for any Yjs types with {@link UserUndo.forTypes}.
 *
 * @example
 * ```ts
 * const undo = richTextUndo(text)
 * text.insertParagraph(0, 'oops')
 * undo.undo() // removes 'oops' — but nothing a collaborator typed meanwhile
 * undo.redo()
 * ```
 */
export class UserUndo {
  /** @param manager - The underlying manager (kept reachable for editor integrations). */
  constructor(readonly manager: Y.UndoManager) {}

  /**
   * Undo for arbitrary Yjs types (not chat: an undo manager keeps deleted items alive, which
   * defeats redaction), tracking only edits made in
   * transactions whose origin is one of `origins`.
   */
  static forTypes(
    // biome-ignore lint/suspicious/noExplicitAny: any Yjs type can be tracked
    scope: Y.AbstractType<any> | readonly Y.AbstractType<any>[],
    origins: readonly unknown[],
    options: UserUndoOptions = {},
  ): UserUndo {
    return new UserUndo(
      new Y.UndoManager(Array.isArray(scope) ? [...scope] : [scope as Y.AbstractType<unknown>], {
        trackedOrigins: new Set(origins),
        captureTimeout: options.captureTimeout ?? 500,
      }),
    )
  }

  /** Undo this user's last step; `false` if there was nothing to undo. */
  undo(): boolean {
    return this.manager.undo() !== null
  }

  /** Redo the last undone step; `false` if there was nothing to redo. */
  redo(): boolean {
    return this.manager.redo() !== null
  }

  /** Whether there is a step to undo. */
  get canUndo(): boolean {
    return this.manager.canUndo()
  }

  /** Whether there is a step to redo. */
  get canRedo(): boolean {
    return this.manager.canRedo()
  }

  /** Start a new undo step even if the next edit comes within the capture timeout. */
  stopCapturing(): void {
    this.manager.stopCapturing()
  }

  /** Forget the undo and redo history. */
  clear(): void {
    this.manager.clear()
  }

  /** Subscribe to changes of {@link UndoState}; returns the unsubscribe function. */
  observe(listener: (state: UndoState) => void): () => void {
    const handler = () => listener({ canUndo: this.canUndo, canRedo: this.canRedo })
    const events = ['stack-item-added', 'stack-item-popped', 'stack-cleared'] as const
    for (const e of events) this.manager.on(e, handler)
    return () => {
      for (const e of events) this.manager.off(e, handler)
    }
  }

  /** Stop tracking (the document is untouched). */
  destroy(): void {
    this.manager.destroy()
  }
}
