import { Identity } from '@valv/crypto'
import { field, h } from '../dom.js'
import { t } from '../i18n.js'
import { rememberIdentity } from '../keychain.js'
import { type App, navigate, render } from '../router.js'

function backupPanel(backup: string): HTMLElement {
  const text = h('textarea', { readonly: true, rows: 4 })
  text.value = backup
  const download = h(
    'button',
    {
      type: 'button',
      onclick: () => {
        const a = h('a', {
          href: URL.createObjectURL(new Blob([backup], { type: 'text/plain' })),
          download: 'valv-identity-backup.txt',
        })
        a.click()
      },
    },
    t('download'),
  )
  return h(
    'section',
    { 'aria-labelledby': 'backup-h' },
    h('h2', { id: 'backup-h' }, t('backupTitle')),
    h('p', {}, t('backupIntro')),
    field(t('backupText'), text),
    download,
  )
}

function cardPanel(me: Identity): HTMLElement {
  const text = h('textarea', { readonly: true, rows: 3, id: 'my-card' })
  text.value = me.card.toString()
  const status = h('span', { role: 'status' })
  const copy = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        await navigator.clipboard?.writeText(text.value).catch(() => undefined)
        status.textContent = t('copied')
      },
    },
    t('copy'),
  )
  return h('div', {}, field(t('myCard'), text), copy, ' ', status)
}

function createForm(app: App): HTMLElement {
  const name = h('input', { type: 'text', autocomplete: 'name', required: true })
  const pass = h('input', {
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    minlength: 10,
  })
  const error = h('p', { role: 'alert', class: 'error' })
  const busy = h('p', { role: 'status' })
  const form = h(
    'form',
    {
      onsubmit: async (e) => {
        e.preventDefault()
        error.textContent = ''
        const problem = !name.value.trim()
          ? t('nameMissing')
          : pass.value.length < 10
            ? t('passphraseTooShort')
            : ''
        if (problem) {
          error.textContent = problem
          return
        }
        busy.textContent = t('creating')
        const me = await Identity.create({ displayName: name.value.trim() })
        const backup = await me.export(pass.value)
        await rememberIdentity(me, pass.value)
        app.me = me
        render(app)
        // Shown once, right under the new view's heading: the user should save it now.
        const main = document.getElementById('main')
        const heading = main?.querySelector('h1')
        if (heading) heading.after(backupPanel(backup))
        else main?.prepend(backupPanel(backup))
      },
    },
    field(t('displayName'), name),
    field(t('passphrase'), pass),
    error,
    busy,
    h('button', { type: 'submit', class: 'primary' }, t('create')),
  )
  return h(
    'section',
    { 'aria-labelledby': 'create-h' },
    h('h1', { id: 'create-h' }, t('createIdentityTitle')),
    h('p', {}, t('createIdentityIntro')),
    form,
  )
}

function restoreForm(app: App): HTMLElement {
  const backup = h('textarea', { rows: 3, required: true })
  const pass = h('input', { type: 'password', autocomplete: 'current-password', required: true })
  const error = h('p', { role: 'alert', class: 'error' })
  return h(
    'section',
    { 'aria-labelledby': 'restore-h' },
    h('h2', { id: 'restore-h' }, t('restoreTitle')),
    h(
      'form',
      {
        onsubmit: async (e) => {
          e.preventDefault()
          try {
            const me = await Identity.import(backup.value.trim(), pass.value)
            await rememberIdentity(me, pass.value)
            app.me = me
            render(app)
          } catch {
            error.textContent = t('restoreFailed')
          }
        },
      },
      field(t('backupText'), backup),
      field(t('passphrase'), pass),
      error,
      h('button', { type: 'submit' }, t('restore')),
    ),
  )
}

/** Create or restore an identity; when one exists, show it, its card and a fresh backup. */
export function renderIdentity(app: App, main: HTMLElement): void {
  const me = app.me
  if (!me) {
    main.append(createForm(app), restoreForm(app))
    return
  }
  const pass = h('input', { type: 'password', autocomplete: 'new-password', minlength: 10 })
  const out = h('div')
  main.append(
    h('h1', {}, t('identity')),
    h('p', {}, `${t('signedInAs')} `, h('strong', {}, me.card.displayName)),
    cardPanel(me),
    h(
      'form',
      {
        onsubmit: async (e) => {
          e.preventDefault()
          if (pass.value.length < 10) return
          out.replaceChildren(backupPanel(await me.export(pass.value)))
        },
      },
      field(t('passphrase'), pass),
      h('button', { type: 'submit' }, t('download')),
    ),
    out,
    h('p', {}, h('button', { type: 'button', onclick: () => navigate(app, '') }, t('back'))),
  )
}
