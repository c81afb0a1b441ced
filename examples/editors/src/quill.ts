// Quill 2 through y-quill, with quill-cursors for remote cursors.
import Quill from 'quill'
import QuillCursors from 'quill-cursors'
import 'quill/dist/quill.snow.css'
import { QuillBinding } from 'y-quill'
import type { Bind } from './binding.js'

Quill.register('modules/cursors', QuillCursors)

export const bind: Bind = ({ element, doc, provider, session, user }) => {
  provider.awareness.setLocalStateField('user', user)
  const quill = new Quill(element, {
    modules: { cursors: true, history: { userOnly: true } },
    theme: 'snow',
    readOnly: !session.canWrite(),
  })
  new QuillBinding(doc.getText('quill'), quill, provider.awareness)
  return {
    // Quill ends every document with a newline of its own.
    text: () => quill.getText().replace(/\n$/, ''),
    input: '.ql-editor',
    remoteCursor: '.ql-cursor',
  }
}
