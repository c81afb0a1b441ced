// Tiptap 3: its Collaboration extension (on @tiptap/y-tiptap) takes the fragment, and
// CollaborationCaret takes anything with an `awareness`, such as the Valv provider.
import { Editor } from '@tiptap/core'
import Collaboration from '@tiptap/extension-collaboration'
import CollaborationCaret from '@tiptap/extension-collaboration-caret'
import StarterKit from '@tiptap/starter-kit'
import { RICH_TEXT_FRAGMENT } from '@valv/models'
import type { Bind } from './binding.js'

export const bind: Bind = ({ element, doc, provider, session, user }) => {
  const editor = new Editor({
    element,
    extensions: [
      StarterKit.configure({ undoRedo: false }), // Yjs undo replaces ProseMirror history
      Collaboration.configure({ fragment: doc.getXmlFragment(RICH_TEXT_FRAGMENT) }),
      CollaborationCaret.configure({ provider, user }),
    ],
    editable: session.canWrite(),
  })
  return {
    text: () => editor.getText(),
    input: '.ProseMirror',
    remoteCursor: '.collaboration-carets__caret',
  }
}
