import { RichText, richTextToHtml, richTextToMarkdown } from '@valv/models/richtext'
import { exportSheetCsv, SheetWorkbook } from '@valv/models/sheet'
import type { DocKind, OpenDocument } from '../documents.js'
import { h } from '../dom.js'
import { t } from '../i18n.js'

function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }))
  h('a', { href: url, download: name }).click()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

/**
 * Export buttons for the formats `@valv/models` writes today. The file is made from the
 * decrypted document in this tab; nothing goes through a server. ODF export is planned.
 */
export function exportButtons(open: OpenDocument, kind: DocKind, title: string): HTMLElement {
  const base = title.replace(/[^\p{L}\p{N} _-]+/gu, '').trim() || 'valv'
  const button = (label: string, onclick: () => void) =>
    h('button', { type: 'button', onclick }, label)
  if (kind === 'text') {
    const node = () => RichText.fromDoc(open.doc).toNode()
    return h(
      'div',
      { class: 'export' },
      button(t('exportMarkdown'), () =>
        download(`${base}.md`, 'text/markdown', richTextToMarkdown(node())),
      ),
      button(t('exportHtml'), () =>
        download(`${base}.html`, 'text/html', richTextToHtml(node(), document)),
      ),
    )
  }
  if (kind === 'sheet') {
    return h(
      'div',
      { class: 'export' },
      button(t('exportCsv'), () => {
        const workbook = new SheetWorkbook(open.doc)
        const first = workbook.sheetNames()[0]
        if (first !== undefined) {
          download(`${base}.csv`, 'text/csv', exportSheetCsv(workbook.sheet(first)))
        }
      }),
    )
  }
  return h('div')
}
