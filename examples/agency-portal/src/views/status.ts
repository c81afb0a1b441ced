import type { OpenDocument } from '../documents.js'
import { h } from '../dom.js'
import { t } from '../i18n.js'
import { onDispose } from '../lifecycle.js'

/** Connection and save state of a document, announced politely to screen readers. */
export function statusLine(open: OpenDocument): HTMLElement {
  const line = h('p', { class: 'status', role: 'status', 'data-testid': 'sync-status' })
  const update = () => {
    const p = open.provider
    const conn =
      p.status === 'connected'
        ? t('online')
        : p.status === 'connecting'
          ? t('connecting')
          : t('offline')
    const n = p.unsyncedChanges
    line.dataset.unsynced = String(n)
    line.textContent = `${conn} · ${n > 0 ? t('unsynced', { n }) : t('allSaved')}`
  }
  update()
  open.provider.on('status', update)
  open.provider.on('unsyncedChanges', update)
  onDispose(() => {
    open.provider.off('status', update)
    open.provider.off('unsyncedChanges', update)
  })
  return line
}
