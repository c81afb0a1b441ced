import { diffWordsWithSpace } from 'diff'

/** One run of a text diff. */
export interface TextDiffPart {
  /** `equal` in both, `insert` only in the newer text, `delete` only in the older. */
  readonly type: 'equal' | 'insert' | 'delete'
  /** The text of the run. */
  readonly text: string
}

/**
 * Word-level diff of two texts (words, punctuation, whitespace runs and newlines are tokens),
 * computed with the BSD-licensed `diff` (jsdiff) library.
 *
 * @example
 * ```ts
 * diffText('the old plan', 'the new plan')
 * // [{ type: 'equal', text: 'the ' }, { type: 'delete', text: 'old' },
 * //  { type: 'insert', text: 'new' }, { type: 'equal', text: ' plan' }]
 * ```
 */
export function diffText(older: string, newer: string): TextDiffPart[] {
  return diffWordsWithSpace(older, newer).map((c) => ({
    type: c.added ? 'insert' : c.removed ? 'delete' : 'equal',
    text: c.value,
  }))
}
