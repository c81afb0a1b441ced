import { describe, expect, it } from 'vitest'
import { repairNode } from './repair.js'
import { richTextSchema as s } from './schema.js'

const n = (name: string) => {
  const type = s.nodes[name]
  if (!type) throw new Error(name)
  return type
}

describe('repairNode', () => {
  it('makes merged trees valid without losing placeable content', () => {
    const broken = n('doc').create(null, [
      n('bulletList').create(null, [
        n('listItem').create(null, [n('blockquote').create(null, [s.node('paragraph')])]),
      ]),
      s.text('stray'),
      n('codeBlock').create(null, [s.text('x', [s.mark('bold')])]),
      n('table').create(null, []),
    ])
    expect(() => broken.check()).toThrow()
    const fixed = repairNode(broken)
    fixed.check()
    expect(fixed.textContent).toBe('strayx')
    expect(fixed.child(0).child(0).child(0).type.name).toBe('paragraph')
    expect(fixed.child(1).type.name).toBe('paragraph')
    expect(fixed.child(2).child(0).marks).toEqual([])
  })

  it('returns valid trees unchanged', () => {
    const ok = s.node('doc', null, [s.node('paragraph', null, [s.text('a')])])
    expect(repairNode(ok).eq(ok)).toBe(true)
  })
})
