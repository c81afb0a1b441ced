import type { OpenDocument } from '../documents.js'
import { h } from '../dom.js'
import { t } from '../i18n.js'
import { onDispose } from '../lifecycle.js'

/** Who has the document open right now (from awareness, which the provider encrypts). */
export function presence(open: OpenDocument): HTMLElement {
  const line = h('p', { class: 'presence', 'data-testid': 'presence' })
  const awareness = open.provider.awareness
  const draw = () => {
    const names = [...awareness.getStates().values()]
      .map((s) => (s as { user?: { name?: unknown } }).user?.name)
      .filter((n): n is string => typeof n === 'string')
    line.textContent = `${t('here')}: ${[...new Set(names)].join(', ')}`
  }
  awareness.on('change', draw)
  onDispose(() => awareness.off('change', draw))
  draw()
  return line
}
