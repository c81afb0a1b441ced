/** Attributes of {@link h}: `on*` functions become listeners, other values attributes. */
export type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>

/** Create an element. `false`/`undefined` attributes are left out; `true` sets an empty value. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value)
    else if (value === true) el.setAttribute(name, '')
    else if (value !== false && value !== undefined) el.setAttribute(name, String(value))
  }
  for (const child of children) if (child) el.append(child)
  return el
}

let ids = 0
/** A fresh id for label/input pairs. */
export function uid(prefix = 'f'): string {
  ids += 1
  return `${prefix}-${ids}`
}

/** A labelled form field: the label is a real `<label for>`, as WCAG 1.3.1 wants. */
export function field(
  label: string,
  input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
) {
  if (!input.id) input.id = uid()
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input)
}

/** Announce a message to screen readers through the shared live region. */
export function announce(message: string): void {
  const region = document.getElementById('announcer')
  if (region) region.textContent = message
}
