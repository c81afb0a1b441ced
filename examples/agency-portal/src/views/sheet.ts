import { type Sheet, SheetWorkbook, sheetColumnName } from '@valv/models/sheet'
import type { OpenDocument } from '../documents.js'
import { h, uid } from '../dom.js'
import { t } from '../i18n.js'
import { onDispose } from '../lifecycle.js'

// Drawn at most: a grid of inputs this size stays responsive; larger sheets need virtualising.
const MAX_ROWS = 200
const MAX_COLS = 52

/** The cell the row/column buttons act on: the last one focused (zero-based). */
interface Current {
  row: number
  col: number
}

function cellInput(
  sheet: Sheet,
  a1: string,
  open: OpenDocument,
  error: HTMLElement,
  at: Current & { current: Current },
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
    at.current.row = at.row
    at.current.col = at.col
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

/** The table of cell inputs; `refresh` shows values changed by anyone, in place. */
function grid(
  sheet: Sheet,
  open: OpenDocument,
  help: string,
  current: Current,
  error: HTMLElement,
): { el: HTMLElement; refresh: () => void; setReadOnly: () => void } {
  const rows = Math.min(sheet.rowCount, MAX_ROWS)
  const cols = Math.min(sheet.columnCount, MAX_COLS)
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
        const a1 = `${sheetColumnName(c)}${r + 1}`
        const input = cellInput(sheet, a1, open, error, { row: r, col: c, current })
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
  const setReadOnly = () => {
    for (const input of inputs) input.readOnly = !open.session.canWrite()
  }
  const el = h(
    'div',
    { class: 'sheet-scroll' },
    h(
      'table',
      { class: 'sheet', 'aria-describedby': help },
      h('caption', { class: 'sr-only' }, t('sheetLabel')),
      h('thead', {}, head),
      h('tbody', {}, ...body),
    ),
  )
  return { el, refresh, setReadOnly }
}

/**
 * Buttons that insert and delete rows and columns at the current cell. Rows and columns have
 * stable ids in the model, so concurrent inserts from two users both land and cell contents
 * (and formulas' references) follow their rows.
 */
function structureBar(sheet: Sheet, open: OpenDocument, current: Current, error: HTMLElement) {
  const act = (fn: () => void) => () => {
    if (!open.session.canWrite()) return
    try {
      fn()
      error.textContent = ''
    } catch (err) {
      error.textContent = t('error', { message: (err as Error).message })
    }
  }
  const button = (label: string, fn: () => void) =>
    h('button', { type: 'button', onclick: act(fn) }, label)
  return h(
    'div',
    { role: 'toolbar', 'aria-label': t('sheetToolbar'), class: 'toolbar' },
    button(t('insertRowAbove'), () => sheet.insertRows(current.row)),
    button(t('insertRowBelow'), () => sheet.insertRows(current.row + 1)),
    button(t('insertColumnLeft'), () => sheet.insertColumns(current.col)),
    button(t('insertColumnRight'), () => sheet.insertColumns(current.col + 1)),
    button(t('deleteRow'), () => sheet.deleteRows(current.row)),
    button(t('deleteColumn'), () => sheet.deleteColumns(current.col)),
  )
}

/**
 * A spreadsheet grid over the first sheet: values when idle, the formula while editing; rows
 * and columns can be inserted and deleted. The grid is redrawn when its shape changes.
 */
export function renderSheet(open: OpenDocument, body: HTMLElement): void {
  const workbook = new SheetWorkbook(open.doc)
  const helpId = uid('help')
  const current: Current = { row: 0, col: 0 }
  const draw = () => {
    const name = workbook.sheetNames()[0]
    if (name === undefined) return false
    const sheet = workbook.sheet(name)
    const error = h('p', { role: 'alert', class: 'error' })
    const host = h('div')
    let shown = grid(sheet, open, helpId, current, error)
    host.append(shown.el)
    onDispose(
      sheet.observe((e) => {
        if (e.type === 'cells' || e.type === 'layout') {
          shown.refresh()
          return
        }
        // Rows or columns changed: redraw, keeping the focused cell focused where it still is.
        const focused = (document.activeElement as HTMLElement | null)?.dataset?.cell
        shown = grid(sheet, open, helpId, current, error)
        host.replaceChildren(shown.el)
        if (focused) host.querySelector<HTMLInputElement>(`[data-cell="${focused}"]`)?.focus()
      }),
    )
    onDispose(open.session.onChange(() => shown.setReadOnly()))
    body.replaceChildren(
      h('p', { id: helpId, class: 'muted' }, t('formulaHelp')),
      structureBar(sheet, open, current, error),
      error,
      host,
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
