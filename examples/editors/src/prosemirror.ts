// ProseMirror through y-prosemirror, with the rich text schema of @valv/models (as the portal).
import { RICH_TEXT_FRAGMENT, richTextSchema } from '@valv/models'
import { baseKeymap } from 'prosemirror-commands'
import { keymap } from 'prosemirror-keymap'
import { EditorState } from 'prosemirror-state'
import { EditorView } from 'prosemirror-view'
import { redo, undo, yCursorPlugin, ySyncPlugin, yUndoPlugin } from 'y-prosemirror'
import type { Bind } from './binding.js'

export const bind: Bind = ({ element, doc, provider, session, user }) => {
  provider.awareness.setLocalStateField('user', user)
  const view = new EditorView(element, {
    state: EditorState.create({
      schema: richTextSchema,
      plugins: [
        ySyncPlugin(doc.getXmlFragment(RICH_TEXT_FRAGMENT)),
        yCursorPlugin(provider.awareness),
        yUndoPlugin(),
        keymap({ 'Mod-z': undo, 'Mod-y': redo, 'Mod-Shift-z': redo }),
        keymap(baseKeymap),
      ],
    }),
    editable: () => session.canWrite(),
  })
  return {
    text: () => view.state.doc.textContent,
    input: '.ProseMirror',
    remoteCursor: '.ProseMirror-yjs-cursor',
  }
}
