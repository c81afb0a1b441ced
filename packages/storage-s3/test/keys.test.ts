import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { blobObject, blobVersion, nextVersion, segmentOfName } from '../src/keys.js'

describe('write-once blob versions', () => {
  it('always sorts a new version after the newest one, whatever the clock says (property)', () => {
    const time = fc.integer({ min: 0, max: 2 ** 47 })
    fc.assert(
      fc.property(time, time, (earlier, now) => {
        const newest = blobVersion('t/', ['doc', 'f'], nextVersion(undefined, earlier))
        const next = blobVersion('t/', ['doc', 'f'], nextVersion(newest, now))
        expect(next > newest).toBe(true)
        expect(next.startsWith(blobObject('t/', ['doc', 'f']))).toBe(true)
      }),
    )
  })

  it('keeps two writers at the same instant apart, and names the segment of every object', () => {
    expect(nextVersion(undefined, 5)).not.toBe(nextVersion(undefined, 5))
    expect(segmentOfName(`f${blobObject('', [])}!${nextVersion(undefined)}`)).toBe('f')
    expect(segmentOfName('f!v')).toBe('f')
    expect(segmentOfName('f!b')).toBe('f')
    expect(segmentOfName('f/')).toBe('f')
  })
})
