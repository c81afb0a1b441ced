import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { Pacer } from '../src/pacer.js'

describe('Pacer', () => {
  it('sends a burst at once, then the rest in order as tokens refill, never more than the budget', () => {
    // Fake clock: the budget is a function of time, so real time on a busy machine would refill
    // tokens between two sends and make the first assertion a race.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    try {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 8 }),
          fc.integer({ min: 0, max: 40 }),
          fc.integer({ min: 100, max: 4000 }),
          (burst, n, perSecond) => {
            const sent: number[] = []
            const pacer = new Pacer((b) => sent.push(b[0] as number), { perSecond, burst })
            for (let i = 0; i < n; i++) pacer.send(new Uint8Array([i]))
            expect(sent.length).toBe(Math.min(n, burst))
            for (let ms = 1; sent.length < n; ms++) {
              vi.advanceTimersByTime(1)
              expect(sent.length).toBeLessThanOrEqual(burst + Math.floor((ms * perSecond) / 1000))
              expect(ms).toBeLessThan(1000)
            }
            expect(sent).toEqual([...Array(n).keys()])
            expect(pacer.backlog).toBe(0)
          },
        ),
        { numRuns: 50 },
      )
    } finally {
      vi.useRealTimers()
    }
  })

  it('drops what waits when the socket is gone', async () => {
    const sent: number[] = []
    const pacer = new Pacer((b) => sent.push(b[0] as number), { perSecond: 10, burst: 1 })
    pacer.send(new Uint8Array([1]))
    pacer.send(new Uint8Array([2]))
    pacer.reset()
    await new Promise((r) => setTimeout(r, 250))
    expect(sent).toEqual([1])
  })
})
