/// <reference types="vite/client" />
// Monaco through y-monaco. Monaco wants its editor worker; Vite bundles it with `?worker`.
// y-monaco imports `monaco-editor/esm/vs/editor/editor.api.js`, a path the exports map of
// monaco-editor 0.58 no longer serves: vite.config.ts aliases it to `monaco-editor/editor/…`.
import * as monaco from 'monaco-editor/editor/editor.api.js'
import EditorWorker from 'monaco-editor/editor/editor.worker.js?worker'
import { MonacoBinding } from 'y-monaco'
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
  new MonacoBinding(doc.getText('monaco'), model, new Set([editor]), provider.awareness)
  return {
    text: () => model.getValue(),
    input: '.monaco-editor .view-lines',
    remoteCursor: '.yRemoteSelectionHead',
  }
}
