import { type Identity, Role } from '@valv/crypto'
import {
  commentsOf,
  type DocKind,
  joinDocument,
  type OpenDocument,
  openDocument,
} from '../documents.js'
import { h } from '../dom.js'
import { listDrive, saveDriveEntry } from '../drive-store.js'
import { t } from '../i18n.js'
import { onDispose } from '../lifecycle.js'
import { type App, navigate } from '../router.js'
import { renderChat } from './chat.js'
import { exportButtons } from './export.js'
import { renderFiles } from './files.js'
import { presence } from './presence.js'
import { openShareDialog } from './share.js'
import { renderSheet } from './sheet.js'
import { renderSlides } from './slides.js'
import { statusLine } from './status.js'
import { renderText } from './text.js'
import { renderVersions } from './versions.js'

const cache = new Map<string, Promise<OpenDocument>>()

/** Keep an open document for the next render (documents stay connected while the tab lives). */
export function remember(open: OpenDocument): void {
  cache.set(open.session.docId, Promise.resolve(open))
}

function failed(main: HTMLElement, err: unknown): void {
  main.replaceChildren(
    h('p', { role: 'alert', class: 'error' }, t('error', { message: String(err) })),
  )
}

/** Join a pending invite, or open `?doc=…`, then show the document's editor. */
export function renderDocument(app: App, main: HTMLElement): void {
  const me = app.me as Identity
  main.append(h('p', { role: 'status' }, app.pendingInvite ? t('joining') : t('loading')))
  if (app.pendingInvite) {
    const link = app.pendingInvite
    app.pendingInvite = undefined
    joinDocument(me, app.relayUrl, link).then(
      async (open) => {
        remember(open)
        await saveDriveEntry({
          docId: open.session.docId,
          title: open.meta.get('title') ?? t('untitled'),
          kind: (open.meta.get('kind') as DocKind | undefined) ?? 'text',
          folder: '',
        })
        navigate(app, `?doc=${encodeURIComponent(open.session.docId)}`)
      },
      (err) => failed(main, err),
    )
    return
  }
  const docId = new URLSearchParams(location.search).get('doc') as string
  let pending = cache.get(docId)
  if (!pending) {
    const kind = listDrive().find((e) => e.docId === docId)?.kind
    pending = openDocument(me, app.relayUrl, docId, kind)
    cache.set(docId, pending)
  }
  pending.then(
    (open) => show(app, main, open),
    (err) => failed(main, err),
  )
}

function show(app: App, main: HTMLElement, open: OpenDocument): void {
  const me = app.me as Identity
  const entry = listDrive().find((e) => e.docId === open.session.docId)
  const kind = (open.meta.get('kind') as DocKind | undefined) ?? entry?.kind ?? 'text'
  const title = h('h1', {}, open.meta.get('title') ?? entry?.title ?? t('untitled'))
  const notice = h('p', { class: 'notice', role: 'alert' })
  const body = h('div', { class: `doc doc-${kind}` })
  const updateRole = () => {
    const role = open.session.role
    notice.textContent =
      role === Role.None ? t('removedNotice') : open.session.canWrite() ? '' : t('readOnly')
    notice.hidden = notice.textContent === ''
    main.dataset.role = String(role)
  }
  updateRole()
  onDispose(open.session.onChange(updateRole))
  // A text document's comments are a document of their own (see documents.ts).
  const comments = kind === 'text' ? commentsOf(me, app.relayUrl, open) : Promise.resolve(undefined)
  const shareButton = h(
    'button',
    {
      type: 'button',
      onclick: async () =>
        openShareDialog(open, shareButton, await comments.catch(() => undefined)),
    },
    t('share'),
  )
  const versionsPanel = h('div')
  main.replaceChildren(
    h(
      'div',
      { class: 'doc-head' },
      h(
        'p',
        {},
        h(
          'a',
          {
            href: location.pathname,
            onclick: (e) => {
              e.preventDefault()
              navigate(app, '')
            },
          },
          `← ${t('back')}`,
        ),
      ),
      title,
      statusLine(open),
      h(
        'div',
        { class: 'actions' },
        exportButtons(open, kind, title.textContent ?? ''),
        shareButton,
      ),
      presence(open),
    ),
    notice,
    body,
    versionsPanel,
  )
  if (kind === 'text') {
    renderText(open, body, me, comments)
    renderVersions(open, versionsPanel, me.card.displayName)
  } else if (kind === 'sheet') renderSheet(open, body)
  else if (kind === 'slides') renderSlides(open, body)
  else if (kind === 'files') renderFiles(open, body, me)
  else renderChat(open, body, me)
}
