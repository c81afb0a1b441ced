import type { OpenDocument } from '../documents.js'
import { field, h } from '../dom.js'
import { currentLang, t } from '../i18n.js'
import { onDispose } from '../lifecycle.js'

/** A chat message as the portal (and examples/node-bot) stores it. */
export interface ChatMessage {
  readonly author: string
  readonly text: string
  readonly at: number
}

// A plain Y.Array until the chat model of @valv/models (being written) is exported.
export const CHAT_ROOT = 'valv.portal.chat'

/** A message log (a live region, so new messages are read out) and a send form. */
export function renderChat(open: OpenDocument, body: HTMLElement, name: string): void {
  const messages = open.doc.getArray<ChatMessage>(CHAT_ROOT)
  const list = h('ol')
  // The live region wraps the list: a role on the <ol> itself would orphan its items.
  const log = h(
    'div',
    { class: 'chat-log', role: 'log', 'aria-label': t('chatLog'), tabindex: '0' },
    list,
  )
  const draw = () => {
    const time = new Intl.DateTimeFormat(currentLang(), { timeStyle: 'short' })
    list.replaceChildren(
      ...messages
        .toArray()
        .map((m) =>
          h(
            'li',
            {},
            h('strong', {}, m.author),
            ' ',
            h('span', { class: 'muted' }, time.format(m.at)),
            h('p', {}, m.text),
          ),
        ),
    )
    log.scrollTop = log.scrollHeight
  }
  messages.observe(draw)
  onDispose(() => messages.unobserve(draw))
  const input = h('input', { type: 'text', autocomplete: 'off', id: 'chat-input' })
  const form = h(
    'form',
    {
      class: 'chat-form',
      onsubmit: (e) => {
        e.preventDefault()
        const text = input.value.trim()
        if (!text || !open.session.canWrite()) return
        messages.push([{ author: name, text, at: Date.now() }])
        input.value = ''
      },
    },
    field(t('message'), input),
    h('button', { type: 'submit', class: 'primary' }, t('send')),
  )
  body.append(log, form)
  draw()
}
