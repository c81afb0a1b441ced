import { type StringKey, strings } from './strings.js'

/** A supported UI language. */
export type Lang = keyof typeof strings

const STORAGE_KEY = 'valv.portal.lang'
let lang: Lang = localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'sv'
const listeners = new Set<() => void>()

/** The current UI language. */
export function currentLang(): Lang {
  return lang
}

/** Switch language; views re-render through {@link onLangChange}. */
export function setLang(next: Lang): void {
  lang = next
  localStorage.setItem(STORAGE_KEY, next)
  document.documentElement.lang = next
  for (const l of listeners) l()
}

/** Run `fn` after every language switch. */
export function onLangChange(fn: () => void): void {
  listeners.add(fn)
}

/** Translate `key`, filling `{name}` placeholders from `vars`. */
export function t(key: StringKey, vars: Record<string, string | number> = {}): string {
  const text: string = strings[lang][key]
  return text.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? `{${k}}`))
}

document.documentElement.lang = lang
