import type { Identity } from '@valv/crypto'
import { Comments, type CommentThread } from '@valv/models/comments'
import { RICH_TEXT_FRAGMENT } from '@valv/models/richtext'
import type { EditorView } from 'prosemirror-view'
import { memberNames, type OpenDocument } from '../documents.js'
import { field, h } from '../dom.js'
import { t } from '../i18n.js'
import { onDispose } from '../lifecycle.js'

/**
 * Comment threads anchored to text ranges, through the `Comments` model of `@valv/models`. The
 * threads live in `store`, the text's own comments document (write role `Commenter`, so
 * commenters can comment without editing the text), or in the text itself for documents made
 * before that. The author is the member id; the name shown comes from the membership chain.
 */
export function renderComments(
  open: OpenDocument,
  panel: HTMLElement,
  me: Identity,
  view: () => EditorView | undefined,
  store: OpenDocument = open,
): void {
  const comments = new Comments(store.doc, { author: me.userId })
  const fragment = open.doc.getXmlFragment(RICH_TEXT_FRAGMENT)
  const list = h('ul', { class: 'threads', 'data-testid': 'threads' })
  const error = h('p', { role: 'alert', class: 'error' })
  const item = (thread: CommentThread, names: Map<string, string>) => {
    const anchor = comments.resolveText(thread.id, fragment)
    const quote = anchor.status === 'anchored' ? anchor.text : t('orphaned')
    return h(
      'li',
      { class: thread.resolved ? 'resolved' : '' },
      h('blockquote', {}, quote),
      ...thread.comments
        .filter((c) => !c.deleted)
        .map((c) =>
          h('p', {}, h('strong', {}, names.get(c.author) ?? t('unknownMember')), `: ${c.body}`),
        ),
      thread.resolved ? h('p', { class: 'muted' }, t('resolvedLabel')) : null,
      h(
        'button',
        {
          type: 'button',
          disabled: !store.session.canWrite(),
          onclick: () =>
            thread.resolved ? comments.reopen(thread.id) : comments.resolve(thread.id),
        },
        thread.resolved ? t('reopenThread') : t('resolveThread'),
      ),
    )
  }
  const draw = () => {
    const threads = comments.threads()
    const names = memberNames(store.session)
    list.replaceChildren(
      ...(threads.length === 0
        ? [h('li', {}, t('noComments'))]
        : threads.map((th) => item(th, names))),
    )
  }
  onDispose(comments.observe(draw))
  onDispose(store.session.onChange(draw))
  const body = h('textarea', { rows: 2, id: 'comment-body' })
  panel.append(
    h(
      'section',
      { 'aria-labelledby': 'comments-h', class: 'card' },
      h('h2', { id: 'comments-h' }, t('comments')),
      list,
      h(
        'form',
        {
          onsubmit: (e) => {
            e.preventDefault()
            const selection = view()?.state.selection
            if (!selection || selection.empty) {
              error.textContent = t('selectTextFirst')
              return
            }
            if (!body.value.trim() || !store.session.canWrite()) return
            comments.addTextThread(fragment, selection.from, selection.to, body.value.trim())
            body.value = ''
            error.textContent = ''
          },
        },
        field(t('commentBody'), body),
        error,
        h('button', { type: 'submit' }, t('addComment')),
      ),
    ),
  )
  draw()
}
