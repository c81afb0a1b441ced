import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Pacer } from '../src/pacer.js'

describe('Pacer', () => {
  it('sends a burst at once, then the rest in order as tokens refill, never more than the budget', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 40 }),
        async (burst, n) => {
          const sent: number[] = []
          const pacer = new Pacer((b) => sent.push(b[0] as number), { perSecond: 2000, burst })
          for (let i = 0; i < n; i++) pacer.send(new Uint8Array([i]))
          expect(sent.length).toBe(Math.min(n, burst))
          while (sent.length < n) await new Promise((r) => setTimeout(r, 2))
          expect(sent).toEqual([...Array(n).keys()])
          expect(pacer.backlog).toBe(0)
        },
      ),
      { numRuns: 20 },
    )
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
