const KEEP = new Set(['å', 'ä', 'ö', 'æ', 'ø'])

/**
 * Normalise text for search: Unicode NFC, lower case, and accents stripped except on the Nordic
 * letters (å ä ö æ ø are letters of their own in Swedish, so `å` must not match `a`).
 */
export function normalizeSearchText(text: string): string {
  let out = ''
  for (const ch of text.normalize('NFC').toLowerCase()) {
    out += KEEP.has(ch) ? ch : ch.normalize('NFD').replace(/\p{M}/gu, '')
  }
  return out
}

/** Split normalised text into word tokens (letters and digits). */
export function searchTokens(text: string): string[] {
  return normalizeSearchText(text).match(/[\p{L}\p{N}]+/gu) ?? []
}

/**
 * In-memory token index: every query token must be a prefix of some token of a document. The
 * vocabulary is kept sorted so a prefix lookup is a binary search plus the matching run.
 */
export class SearchIndex {
  private readonly postings = new Map<string, Set<string>>()
  private vocabulary: string[] | null = null

  /** Index a document's texts under an id. */
  add(id: string, texts: readonly string[]): void {
    for (const t of texts) {
      for (const token of searchTokens(t)) {
        let set = this.postings.get(token)
        if (!set) {
          set = new Set()
          this.postings.set(token, set)
          this.vocabulary = null
        }
        set.add(id)
      }
    }
  }

  private prefixed(prefix: string): Set<string> {
    if (!this.vocabulary) this.vocabulary = [...this.postings.keys()].sort()
    const v = this.vocabulary
    let lo = 0
    let hi = v.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((v[mid] as string) < prefix) lo = mid + 1
      else hi = mid
    }
    const out = new Set<string>()
    for (let i = lo; i < v.length && (v[i] as string).startsWith(prefix); i++) {
      for (const id of this.postings.get(v[i] as string) ?? []) out.add(id)
    }
    return out
  }

  /** Ids matching every token of the query as a prefix (empty query matches nothing). */
  query(q: string): Set<string> {
    const tokens = searchTokens(q)
    if (tokens.length === 0) return new Set()
    let result: Set<string> | undefined
    for (const t of tokens) {
      const hits = this.prefixed(t)
      const prev: Set<string> | undefined = result
      result = prev ? new Set([...prev].filter((id) => hits.has(id))) : hits
      if (result.size === 0) break
    }
    return result ?? new Set()
  }
}
