import { parseInvite } from '@valv/crypto'
import { relayUrl } from './config.js'
import { INVITE_SEPARATOR } from './documents.js'
import { h } from './dom.js'
import { onLangChange, setLang, t } from './i18n.js'
import { hasVault } from './keychain.js'
import { type App, render } from './router.js'

async function boot(): Promise<void> {
  const root = document.getElementById('app') as HTMLElement
  root.replaceChildren(h('p', { role: 'status' }, t('loading')))
  const app: App = {
    root,
    relayUrl: await relayUrl(),
    me: undefined,
    locked: await hasVault(),
    pendingInvite: undefined,
  }
  // An invite link is a URL whose fragment carries the capability; keep it out of the address
  // bar (and history) as soon as it is read.
  if (location.hash.length > 1) {
    try {
      // The portal's link may carry a second invite (the comments document) after `~`.
      parseInvite(location.hash.split(INVITE_SEPARATOR)[0] ?? '')
      app.pendingInvite = location.hash
      history.replaceState(null, '', location.pathname + location.search)
    } catch {
      // Not an invite: ignore the fragment.
    }
  }
  onLangChange(() => render(app))
  window.addEventListener('popstate', () => render(app))
  render(app)
}

boot().catch((err: unknown) => {
  document.body.append(h('p', { role: 'alert' }, t('error', { message: String(err) })))
})

export { setLang }
