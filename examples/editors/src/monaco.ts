/// <reference types="vite/client" />
// Monaco through y-monaco. Monaco wants its editor worker; Vite bundles it with `?worker`.
// y-monaco imports `monaco-editor/esm/vs/editor/editor.api.js`, a path the exports map of
// monaco-editor 0.58 no longer serves: vite.config.ts aliases it to `monaco-editor/editor/…`.
import * as monaco from 'monaco-editor/editor/editor.api.js'
import EditorWorker from 'monaco-editor/editor/editor.worker.js?worker'
import { MonacoBinding } from 'y-monaco'
import * as Y from 'yjs'
import type { Bind } from './binding.js'

;(self as unknown as { MonacoEnvironment: monaco.Environment }).MonacoEnvironment = {
  getWorker: () => new EditorWorker(),
}

export const bind: Bind = ({ element, doc, provider, session, user }) => {
  provider.awareness.setLocalStateField('user', user)
  element.style.height = '300px'
  const editor = monaco.editor.create(element, {
    value: '',
    language: 'plaintext',
    readOnly: !session.canWrite(),
    automaticLayout: true,
  })
  const model = editor.getModel() as monaco.editor.ITextModel
  const ytext = doc.getText('monaco')
  const binding = new MonacoBinding(ytext, model, new Set([editor]), provider.awareness)
  // Monaco's own undo stack would also revert edits that arrived from others: a Y.UndoManager
  // tracking only the binding's origin undoes this user's changes, bound over Monaco's keys.
  const undoManager = new Y.UndoManager(ytext, { trackedOrigins: new Set([binding]) })
  editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyZ, () => undoManager.undo())
  editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyMod.Shift | monaco.KeyCode.KeyZ, () =>
    undoManager.redo(),
  )
  editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyY, () => undoManager.redo())
  return {
    text: () => model.getValue(),
    input: '.monaco-editor .view-lines',
    remoteCursor: '.yRemoteSelectionHead',
  }
}
