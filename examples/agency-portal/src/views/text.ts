import type { Identity } from '@valv/crypto'
import { RICH_TEXT_FRAGMENT } from '@valv/models/richtext'
import type { EditorView } from 'prosemirror-view'
import type { OpenDocument } from '../documents.js'
import { h } from '../dom.js'
import { mountEditor } from '../editor.js'
import { t } from '../i18n.js'
import { onDispose } from '../lifecycle.js'
import { renderComments } from './comments.js'

/** The rich text editor with live cursors of the other members, and comments beside it. */
export function renderText(
  open: OpenDocument,
  body: HTMLElement,
  me: Identity,
  comments: Promise<OpenDocument | undefined>,
): void {
  let view: EditorView | undefined
  const side = h('div', { class: 'side' })
  body.append(
    h(
      'div',
      { class: 'text-layout' },
      mountEditor(open.doc.getXmlFragment(RICH_TEXT_FRAGMENT), {
        label: t('editorLabel'),
        editable: () => open.session.canWrite(),
        awareness: open.provider.awareness,
        toolbar: true,
        subscribe: (update) => open.session.onChange(update),
        onView: (v) => {
          view = v
        },
      }),
      side,
    ),
  )
  let disposed = false
  onDispose(() => {
    disposed = true
  })
  side.append(h('p', { role: 'status' }, t('loading')))
  comments.then(
    (store) => {
      if (disposed) return // the view was left before the comments document opened
      side.replaceChildren()
      renderComments(open, side, me, () => view, store)
    },
    (err: unknown) => {
      side.replaceChildren(
        h('p', { role: 'alert', class: 'error' }, t('error', { message: String(err) })),
      )
    },
  )
}
