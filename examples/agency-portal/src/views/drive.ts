import type { Identity } from '@valv/crypto'
import { createDocument, type DocKind } from '../documents.js'
import { field, h } from '../dom.js'
import { type DriveEntry, folders, listDrive, saveDriveEntry } from '../drive-store.js'
import { t } from '../i18n.js'
import { type App, navigate, render } from '../router.js'
import { remember } from './document.js'

const KINDS: [DocKind, Parameters<typeof t>[0]][] = [
  ['text', 'kindText'],
  ['sheet', 'kindSheet'],
  ['slides', 'kindSlides'],
  ['chat', 'kindChat'],
  ['files', 'kindFiles'],
]

function newDocumentForm(app: App, me: Identity): HTMLElement {
  const title = h('input', { type: 'text', required: true, id: 'new-title' })
  const kind = h(
    'select',
    { id: 'new-kind' },
    ...KINDS.map(([k, label]) => h('option', { value: k }, t(label))),
  )
  const folder = h('input', { type: 'text', list: 'folder-list', id: 'new-folder' })
  const list = h(
    'datalist',
    { id: 'folder-list' },
    ...folders().map((f) => h('option', { value: f })),
  )
  const busy = h('p', { role: 'status' })
  return h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'new-h',
      onsubmit: async (e) => {
        e.preventDefault()
        busy.textContent = t('loading')
        const name = title.value.trim() || t('untitled')
        const open = await createDocument(me, app.relayUrl, kind.value as DocKind, name)
        const entry = {
          docId: open.session.docId,
          title: name,
          kind: kind.value as DocKind,
          folder: folder.value.trim(),
        }
        await saveDriveEntry(entry)
        remember(open)
        navigate(app, `?doc=${encodeURIComponent(entry.docId)}`)
      },
    },
    h('h2', { id: 'new-h' }, t('newDocument')),
    field(t('title'), title),
    field(t('kind'), kind),
    field(t('folder'), folder),
    list,
    busy,
    h('button', { type: 'submit', class: 'primary' }, t('newDocument')),
  )
}

function inviteForm(app: App): HTMLElement {
  const link = h('input', { type: 'url', required: true, id: 'invite-input' })
  return h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'invite-h',
      onsubmit: (e) => {
        e.preventDefault()
        const hash = link.value.slice(link.value.indexOf('#'))
        app.pendingInvite = hash
        render(app)
      },
    },
    h('h2', { id: 'invite-h' }, t('openInvite')),
    field(t('inviteLink'), link),
    h('button', { type: 'submit' }, t('join')),
  )
}

function folderSection(app: App, name: string, entries: DriveEntry[]): HTMLElement {
  const kindLabel = (k: DocKind) => t(KINDS.find(([kk]) => kk === k)?.[1] ?? 'kindText')
  return h(
    'section',
    { class: 'folder' },
    h('h3', {}, name || t('noFolder')),
    h(
      'ul',
      { class: 'docs' },
      ...entries.map((e) =>
        h(
          'li',
          {},
          h(
            'a',
            {
              href: `?doc=${encodeURIComponent(e.docId)}`,
              onclick: (ev) => {
                ev.preventDefault()
                navigate(app, `?doc=${encodeURIComponent(e.docId)}`)
              },
            },
            e.title,
          ),
          h('span', { class: 'muted' }, ` – ${kindLabel(e.kind)}`),
        ),
      ),
    ),
  )
}

/** The drive: documents by folder, a new-document form and an invite-link form. */
export function renderDrive(app: App, main: HTMLElement): void {
  const me = app.me as Identity
  const entries = listDrive().sort((a, b) => a.title.localeCompare(b.title))
  const byFolder = new Map<string, DriveEntry[]>()
  for (const e of entries) byFolder.set(e.folder, [...(byFolder.get(e.folder) ?? []), e])
  main.append(
    h('h1', {}, t('drive')),
    h(
      'section',
      { 'aria-labelledby': 'docs-h' },
      h('h2', { id: 'docs-h', class: 'sr-only' }, t('drive')),
      entries.length === 0
        ? h('p', {}, t('noDocuments'))
        : h('div', {}, ...[...byFolder].sort().map(([f, list]) => folderSection(app, f, list))),
    ),
    h('div', { class: 'grid2' }, newDocumentForm(app, me), inviteForm(app)),
  )
}
