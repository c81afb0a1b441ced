import type { Identity } from '@valv/crypto'
import { h } from './dom.js'
import { currentLang, type Lang, setLang, t } from './i18n.js'
import { disposeAll } from './lifecycle.js'
import { renderDocument } from './views/document.js'
import { renderDrive } from './views/drive.js'
import { renderIdentity } from './views/identity.js'
import { renderUnlock } from './views/unlock.js'

/** State shared by every view. */
export interface App {
  readonly root: HTMLElement
  readonly relayUrl: string
  me: Identity | undefined
  /** A vault exists on this device but is not unlocked yet. */
  locked: boolean
  /** An invite fragment read on load, joined once an identity exists. */
  pendingInvite: string | undefined
}

/** Go to a portal URL (`?doc=…`, `?view=identity`, or `/` for the drive). */
export function navigate(app: App, search: string): void {
  history.pushState(null, '', `${location.pathname}${search}`)
  render(app)
}

function header(app: App): HTMLElement {
  const select = h(
    'select',
    { id: 'lang', onchange: (e) => setLang((e.target as HTMLSelectElement).value as Lang) },
    h('option', { value: 'sv', selected: currentLang() === 'sv' }, 'Svenska'),
    h('option', { value: 'en', selected: currentLang() === 'en' }, 'English'),
  )
  const link = (label: string, search: string) =>
    h(
      'a',
      {
        href: search || location.pathname,
        onclick: (e) => {
          e.preventDefault()
          navigate(app, search)
        },
      },
      label,
    )
  return h(
    'header',
    { class: 'top' },
    h('p', { class: 'brand' }, t('appName')),
    app.me
      ? h(
          'nav',
          { 'aria-label': t('nav') },
          h(
            'ul',
            {},
            h('li', {}, link(t('drive'), '')),
            h('li', {}, link(t('identity'), '?view=identity')),
          ),
        )
      : null,
    h('div', { class: 'lang' }, h('label', { for: 'lang' }, t('language')), select),
  )
}

/** Render the view the URL names. */
export function render(app: App): void {
  disposeAll()
  const skip = document.querySelector('a.skip')
  if (skip) skip.textContent = t('skip')
  const main = h('main', { id: 'main', tabindex: '-1' })
  const announcer = h('div', { id: 'announcer', class: 'sr-only', 'aria-live': 'polite' })
  app.root.replaceChildren(header(app), main, announcer)
  const params = new URLSearchParams(location.search)
  if (!app.me && app.locked) renderUnlock(app, main)
  else if (!app.me) renderIdentity(app, main)
  else if (app.pendingInvite || params.get('doc')) renderDocument(app, main)
  else if (params.get('view') === 'identity') renderIdentity(app, main)
  else renderDrive(app, main)
}
