import { richTextSchema } from '@valv/models/richtext'
import { baseKeymap, toggleMark } from 'prosemirror-commands'
import { keymap } from 'prosemirror-keymap'
import { EditorState } from 'prosemirror-state'
import { EditorView } from 'prosemirror-view'
import { redo, undo, yCursorPlugin, ySyncPlugin, yUndoPlugin } from 'y-prosemirror'
import type { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'
import { h } from './dom.js'
import { t } from './i18n.js'
import { onDispose } from './lifecycle.js'

/** Options of {@link mountEditor}. */
export interface EditorOptions {
  readonly label: string
  readonly editable: () => boolean
  /** Share cursors and selections through this awareness (encrypted by the provider). */
  readonly awareness?: Awareness
  readonly toolbar?: boolean
  /** Receives the editor's teardown, for views that replace editors before they are disposed. */
  readonly track?: (destroy: () => void) => void
  /** Receives the ProseMirror view (for selection-based features such as comments). */
  readonly onView?: (view: EditorView) => void
  /** Re-check `editable` whenever this fires (for example when the user's role changes). */
  readonly subscribe?: (update: () => void) => () => void
}

/**
 * A ProseMirror editor bound to a shared `Y.XmlFragment` with y-prosemirror, using the rich text
 * schema of `@valv/models`, so what one user types appears for everyone.
 */
export function mountEditor(fragment: Y.XmlFragment, options: EditorOptions): HTMLElement {
  const host = h('div', { class: 'editor-host' })
  const plugins = [
    ySyncPlugin(fragment),
    ...(options.awareness ? [yCursorPlugin(options.awareness)] : []),
    yUndoPlugin(),
    keymap({
      'Mod-z': undo,
      'Mod-y': redo,
      'Mod-Shift-z': redo,
      'Mod-b': toggleMark(richTextSchema.marks.bold as never),
      'Mod-i': toggleMark(richTextSchema.marks.italic as never),
    }),
    keymap(baseKeymap),
  ]
  const view = new EditorView(host, {
    state: EditorState.create({ schema: richTextSchema, plugins }),
    editable: options.editable,
    attributes: {
      role: 'textbox',
      'aria-multiline': 'true',
      'aria-label': options.label,
      class: 'editor',
    },
  })
  onDispose(() => view.destroy())
  options.onView?.(view)
  const unsubscribe = options.subscribe?.(() => view.setProps({}))
  if (unsubscribe) onDispose(unsubscribe)
  options.track?.(() => view.destroy())
  if (!options.toolbar) return host
  const run = (cmd: (s: EditorState, d: EditorView['dispatch']) => boolean) => () => {
    cmd(view.state, view.dispatch)
    view.focus()
  }
  const button = (label: string, onclick: () => void) =>
    h('button', { type: 'button', onclick }, label)
  const bar = h(
    'div',
    { role: 'toolbar', 'aria-label': t('toolbar'), class: 'toolbar' },
    button(t('bold'), run(toggleMark(richTextSchema.marks.bold as never))),
    button(t('italic'), run(toggleMark(richTextSchema.marks.italic as never))),
    button(t('undo'), run(undo)),
    button(t('redo'), run(redo)),
  )
  return h('div', {}, bar, host)
}
