import { field, h } from '../dom.js'
import { t } from '../i18n.js'
import { unlockIdentity } from '../keychain.js'
import { type App, render } from '../router.js'

/** Ask for the passphrase that unlocks the identity kept on this device. */
export function renderUnlock(app: App, main: HTMLElement): void {
  const pass = h('input', { type: 'password', autocomplete: 'current-password', required: true })
  const error = h('p', { role: 'alert', class: 'error' })
  const busy = h('p', { role: 'status' })
  main.append(
    h(
      'section',
      { 'aria-labelledby': 'unlock-h' },
      h('h1', { id: 'unlock-h' }, t('unlockTitle')),
      h('p', {}, t('unlockIntro')),
      h(
        'form',
        {
          onsubmit: async (e) => {
            e.preventDefault()
            error.textContent = ''
            busy.textContent = t('unlocking')
            try {
              const me = await unlockIdentity(pass.value)
              if (me === undefined) throw new Error('empty vault')
              app.me = me
              app.locked = false
              render(app)
            } catch {
              busy.textContent = ''
              error.textContent = t('unlockFailed')
            }
          },
        },
        field(t('unlockPassphrase'), pass),
        error,
        busy,
        h('button', { type: 'submit', class: 'primary' }, t('unlock')),
      ),
    ),
  )
}
