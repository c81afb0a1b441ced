// Characters XML 1.0 cannot carry at all (C0 controls but tab, LF and CR; U+FFFE/U+FFFF; lone
// surrogates): dropped rather than producing a file no reader opens.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it drops
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** Escape text for an XML element or a double-quoted attribute. */
export function esc(text: string): string {
  return text
    .replace(CONTROL, '')
    .replace(LONE_SURROGATE, '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
}

/**
 * Text as ODF paragraph content. ODF collapses white space like HTML, so spaces that could be
 * collapsed or dropped (runs, and spaces at either end of this text or after a tab or line
 * break) become `<text:s/>`, tabs `<text:tab/>` and line feeds `<text:line-break/>`.
 */
export function odfText(text: string): string {
  const e = esc(text)
  return e.replace(/ +|\t|\n/g, (m: string, at: number) => {
    if (m === '\t') return '<text:tab/>'
    if (m === '\n') return '<text:line-break/>'
    const prev = e[at - 1]
    const exposed = at === 0 || prev === '\t' || prev === '\n' || at + m.length === e.length
    const n = m.length
    if (exposed) return n === 1 ? '<text:s/>' : `<text:s text:c="${n}"/>`
    return n === 1 ? ' ' : n === 2 ? ' <text:s/>' : ` <text:s text:c="${n - 1}"/>`
  })
}
