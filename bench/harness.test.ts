import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { syntheticTrace } from './harness.js'

describe('synthetic trace (fallback when the real traces are absent)', () => {
  it('is deterministic and every edit applies within the text', () => {
    const a = syntheticTrace(5000)
    expect(a.edits).toEqual(syntheticTrace(5000).edits)
    expect(a.edits.length).toBe(5000)
    const text = new Y.Doc().getText('t')
    for (const e of a.edits) {
      expect(e.pos).toBeLessThanOrEqual(text.length)
      if (e.del > 0) text.delete(e.pos, e.del)
      if (e.text) text.insert(e.pos, e.text)
    }
    expect(text.length).toBeGreaterThan(1000)
    expect(a.edits.some((e) => e.del > 0)).toBe(true)
  })
})
