import type { Identity } from '@valv/crypto'
import { Chat, type ChatMessage } from '@valv/models/chat'
import { memberNames, type OpenDocument } from '../documents.js'
import { field, h } from '../dom.js'
import { currentLang, t } from '../i18n.js'
import { onDispose } from '../lifecycle.js'

/**
 * The document's chat through the `Chat` model of `@valv/models`: authors are member ids and
 * their names come from the membership chain (signed certificates), never from what a sender
 * types. A message log (a live region, so new messages are read out) and a send form; authors
 * may redact their own messages, which removes the text from the document state.
 */
export function renderChat(open: OpenDocument, body: HTMLElement, me: Identity): void {
  const chat = new Chat(open.doc, { member: me.userId })
  onDispose(() => chat.destroy())
  // The creator made one channel; the portal shows the first (a joiner may not have it yet).
  const channel = () => chat.channels()[0]?.id
  const list = h('ol')
  // The live region wraps the list: a role on the <ol> itself would orphan its items.
  const log = h(
    'div',
    { class: 'chat-log', role: 'log', 'aria-label': t('chatLog'), tabindex: '0' },
    list,
  )
  const item = (
    id: string,
    m: ChatMessage,
    names: Map<string, string>,
    time: Intl.DateTimeFormat,
  ) =>
    h(
      'li',
      { 'data-author': m.author },
      h('strong', {}, names.get(m.author) ?? t('unknownMember')),
      ' ',
      h('span', { class: 'muted' }, time.format(m.sentAt)),
      m.text === null ? h('p', { class: 'muted' }, t('redacted')) : h('p', {}, m.text),
      m.text !== null && m.author === me.userId && open.session.canWrite()
        ? h(
            'button',
            { type: 'button', class: 'link', onclick: () => chat.redact(id, m.id) },
            t('redact'),
          )
        : null,
    )
  const draw = () => {
    const id = channel()
    const names = memberNames(open.session)
    const time = new Intl.DateTimeFormat(currentLang(), { timeStyle: 'short' })
    list.replaceChildren(
      ...(id === undefined
        ? []
        : chat.page(id, { limit: 200 }).messages.map((m) => item(id, m, names, time))),
    )
    log.scrollTop = log.scrollHeight
  }
  onDispose(chat.observe(draw))
  // A member who joins later gets a name as soon as their certificate arrives.
  onDispose(open.session.onChange(draw))
  const input = h('input', { type: 'text', autocomplete: 'off', id: 'chat-input' })
  const error = h('p', { role: 'alert', class: 'error' })
  const form = h(
    'form',
    {
      class: 'chat-form',
      onsubmit: (e) => {
        e.preventDefault()
        const text = input.value.trim()
        const id = channel()
        if (!text || id === undefined || !open.session.canWrite()) return
        try {
          chat.send(id, text)
          input.value = ''
          error.textContent = ''
        } catch (err) {
          error.textContent = t('error', { message: (err as Error).message })
        }
      },
    },
    field(t('message'), input),
    error,
    h('button', { type: 'submit', class: 'primary' }, t('send')),
  )
  body.append(log, form)
  draw()
}
