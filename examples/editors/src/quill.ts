// Quill 2 through y-quill, with quill-cursors for remote cursors.
import Quill from 'quill'
import QuillCursors from 'quill-cursors'
import 'quill/dist/quill.snow.css'
import { QuillBinding } from 'y-quill'
import * as Y from 'yjs'
import type { Bind } from './binding.js'

Quill.register('modules/cursors', QuillCursors)

export const bind: Bind = ({ element, doc, provider, session, user }) => {
  provider.awareness.setLocalStateField('user', user)
  const ytext = doc.getText('quill')
  // y-quill has no undo of its own. A Y.UndoManager that tracks only the binding's origin undoes
  // this user's changes and never another's; the keyboard bindings (registered before Quill's
  // history module adds its own, and returning false to stop it) route Mod-z to it.
  let undoManager: Y.UndoManager | undefined
  const undo = () => {
    undoManager?.undo()
    return false
  }
  const redo = () => {
    undoManager?.redo()
    return false
  }
  const quill = new Quill(element, {
    modules: {
      cursors: true,
      keyboard: {
        bindings: {
          yUndo: { key: 'z', shortKey: true, handler: undo },
          yRedo: { key: 'z', shortKey: true, shiftKey: true, handler: redo },
          yRedoY: { key: 'y', shortKey: true, handler: redo },
        },
      },
    },
    theme: 'snow',
    readOnly: !session.canWrite(),
  })
  const binding = new QuillBinding(ytext, quill, provider.awareness)
  undoManager = new Y.UndoManager(ytext, { trackedOrigins: new Set([binding]) })
  return {
    // Quill ends every document with a newline of its own.
    text: () => quill.getText().replace(/\n$/, ''),
    input: '.ql-editor',
    remoteCursor: '.ql-cursor',
  }
}
