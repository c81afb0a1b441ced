// CodeMirror 6 through y-codemirror.next.
import { EditorState } from '@codemirror/state'
import { EditorView, keymap } from '@codemirror/view'
import { basicSetup } from 'codemirror'
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next'
import type { Bind } from './binding.js'

export const bind: Bind = ({ element, doc, provider, session, user }) => {
  provider.awareness.setLocalStateField('user', user)
  const text = doc.getText('source')
  const view = new EditorView({
    parent: element,
    doc: text.toString(), // start from what the synced document holds
    extensions: [
      // Before basicSetup, whose history keymap would otherwise take Mod-z for CodeMirror's own
      // history: yCollab's Y.UndoManager undoes only this user's changes.
      keymap.of(yUndoManagerKeymap),
      basicSetup,
      yCollab(text, provider.awareness),
      EditorState.readOnly.of(!session.canWrite()),
    ],
  })
  return {
    text: () => view.state.doc.toString(),
    input: '.cm-content',
    remoteCursor: '.cm-ySelectionCaret',
  }
}
