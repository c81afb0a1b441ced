import { VersionHistory } from '@valv/models/versions'
import type { OpenDocument } from '../documents.js'
import { field, h } from '../dom.js'
import { currentLang, t } from '../i18n.js'
import { onDispose } from '../lifecycle.js'

/** Named versions of a text document: save, compare with now, restore (as a new change). */
export function renderVersions(open: OpenDocument, panel: HTMLElement, author: string): void {
  const history = new VersionHistory(open.doc, { author })
  const list = h('ul', { class: 'versions' })
  const diff = h('div', { class: 'diff', 'aria-live': 'polite' })
  const draw = () => {
    const when = new Intl.DateTimeFormat(currentLang(), { dateStyle: 'short', timeStyle: 'short' })
    const versions = history.list()
    list.replaceChildren(
      ...(versions.length === 0
        ? [h('li', {}, t('noVersions'))]
        : versions.map((v) =>
            h(
              'li',
              {},
              h('span', {}, `${v.name} – ${when.format(v.createdAt)}`),
              ' ',
              h(
                'button',
                {
                  type: 'button',
                  onclick: () => {
                    diff.replaceChildren(
                      ...history
                        .diff(v.id, 'current')
                        .map((part) =>
                          part.type === 'insert'
                            ? h('ins', {}, part.text)
                            : part.type === 'delete'
                              ? h('del', {}, part.text)
                              : part.text,
                        ),
                    )
                  },
                },
                `${t('compare')}: ${v.name}`,
              ),
              ' ',
              h(
                'button',
                {
                  type: 'button',
                  disabled: !open.session.canWrite(),
                  onclick: () => history.restore(v.id),
                },
                `${t('restoreVersion')}: ${v.name}`,
              ),
            ),
          )),
    )
  }
  onDispose(history.observe(draw))
  const name = h('input', { type: 'text', id: 'version-name' })
  panel.append(
    h(
      'section',
      { 'aria-labelledby': 'versions-h', class: 'card' },
      h('h2', { id: 'versions-h' }, t('versions')),
      h(
        'form',
        {
          onsubmit: (e) => {
            e.preventDefault()
            if (!open.session.canWrite()) return
            history.save(name.value.trim() || new Date().toISOString())
            name.value = ''
          },
        },
        field(t('versionName'), name),
        h('button', { type: 'submit' }, t('saveVersion')),
      ),
      list,
      diff,
    ),
  )
  draw()
}
