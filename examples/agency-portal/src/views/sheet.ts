import { type Sheet, SheetWorkbook, sheetColumnName } from '@valv/models'
import type { OpenDocument } from '../documents.js'
import { h, uid } from '../dom.js'
import { t } from '../i18n.js'
import { onDispose } from '../lifecycle.js'

const MAX_ROWS = 20
const MAX_COLS = 8

function cellInput(
  sheet: Sheet,
  a1: string,
  open: OpenDocument,
  error: HTMLElement,
): HTMLInputElement {
  const input = h('input', {
    type: 'text',
    'aria-label': t('cellLabel', { a1 }),
    'data-cell': a1,
    autocomplete: 'off',
  })
  const showValue = () => {
    input.value = sheet.getCell(a1).text
  }
  const commit = () => {
    const cell = sheet.getCell(a1)
    const before = cell.input === null ? '' : String(cell.input)
    if (input.value === before || !open.session.canWrite()) return
    try {
      sheet.setCellInput(a1, input.value)
      error.textContent = ''
    } catch (err) {
      error.textContent = t('error', { message: (err as Error).message })
    }
  }
  input.addEventListener('focus', () => {
    const cell = sheet.getCell(a1)
    input.value = cell.input === null ? '' : String(cell.input)
  })
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      commit()
      input.blur()
    } else if (e.key === 'Escape') input.blur()
    else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      // Up and down move between rows like a spreadsheet; Tab already moves along the row.
      const row = input.closest('tr')
      const next = e.key === 'ArrowDown' ? row?.nextElementSibling : row?.previousElementSibling
      const col = input.closest('td')?.cellIndex ?? -1
      const target = next?.children[col]?.querySelector('input')
      if (target) {
        e.preventDefault()
        target.focus()
      }
    }
  })
  input.addEventListener('blur', () => {
    commit()
    showValue()
  })
  input.readOnly = !open.session.canWrite()
  showValue()
  return input
}

function grid(sheet: Sheet, open: OpenDocument, help: string): HTMLElement {
  const rows = Math.min(sheet.rowCount, MAX_ROWS)
  const cols = Math.min(sheet.columnCount, MAX_COLS)
  const error = h('p', { role: 'alert', class: 'error' })
  const inputs: HTMLInputElement[] = []
  const head = h(
    'tr',
    {},
    h('td'),
    ...Array.from({ length: cols }, (_, c) => h('th', { scope: 'col' }, sheetColumnName(c))),
  )
  const body = Array.from({ length: rows }, (_, r) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, String(r + 1)),
      ...Array.from({ length: cols }, (_, c) => {
        const input = cellInput(sheet, `${sheetColumnName(c)}${r + 1}`, open, error)
        inputs.push(input)
        return h('td', {}, input)
      }),
    ),
  )
  const refresh = () => {
    for (const input of inputs) {
      if (document.activeElement !== input)
        input.value = sheet.getCell(input.dataset.cell ?? 'A1').text
    }
  }
  onDispose(sheet.observe(refresh))
  onDispose(
    open.session.onChange(() => {
      for (const input of inputs) input.readOnly = !open.session.canWrite()
    }),
  )
  return h(
    'div',
    {},
    error,
    h(
      'div',
      { class: 'sheet-scroll' },
      h(
        'table',
        { class: 'sheet', 'aria-describedby': help },
        h('caption', { class: 'sr-only' }, t('sheetLabel')),
        h('thead', {}, head),
        h('tbody', {}, ...body),
      ),
    ),
  )
}

/** A spreadsheet grid over the first sheet: values when idle, the formula while editing. */
export function renderSheet(open: OpenDocument, body: HTMLElement): void {
  const workbook = new SheetWorkbook(open.doc)
  const helpId = uid('help')
  const draw = () => {
    const name = workbook.sheetNames()[0]
    if (name === undefined) return false
    body.replaceChildren(
      h('p', { id: helpId, class: 'muted' }, t('formulaHelp')),
      grid(workbook.sheet(name), open, helpId),
    )
    return true
  }
  if (draw()) return
  // A joiner may not have the sheet yet: draw it as soon as it arrives.
  body.append(h('p', { role: 'status' }, t('loading')))
  const retry = () => {
    if (draw()) open.doc.off('update', retry)
  }
  open.doc.on('update', retry)
  onDispose(() => open.doc.off('update', retry))
}
