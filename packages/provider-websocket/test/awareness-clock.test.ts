import { afterEach, expect, it, vi } from 'vitest'
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { adoptAwareness } from '../src/awareness-clock.js'

afterEach(() => {
  vi.useRealTimers()
})

/** Make every state of `aw` look `ms` older (y-protocols' clock cannot be faked). */
function age(aw: Awareness, ms: number): void {
  for (const meta of aw.meta.values()) meta.lastUpdated -= ms
}

it('adopted awareness is checked on one shared tick: the local state renews, silent peers go', () => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
  const peer = new Awareness(new Y.Doc())
  peer.setLocalState({ name: 'Bo' })
  const update = encodeAwarenessUpdate(peer, [peer.clientID])
  peer.destroy()
  const mine = [new Awareness(new Y.Doc()), new Awareness(new Y.Doc())]
  for (const aw of mine) applyAwarenessUpdate(aw, update, 'test')
  const releases = mine.map((aw) => adoptAwareness(aw))
  // Their own intervals are stopped; one shared one remains.
  expect(vi.getTimerCount()).toBe(1)
  const renewed: number[] = []
  for (const aw of mine) {
    aw.on('update', ({ updated }: { updated: number[] }) => renewed.push(...updated))
  }
  for (const aw of mine) age(aw, 16_000)
  vi.advanceTimersByTime(3_000)
  expect(renewed.sort()).toEqual(mine.map((aw) => aw.clientID).sort())
  expect(mine.every((aw) => aw.getStates().has(peer.clientID))).toBe(true)
  for (const aw of mine) age(aw, 15_000)
  vi.advanceTimersByTime(3_000)
  expect(mine.some((aw) => aw.getStates().has(peer.clientID))).toBe(false)
  releases[0]?.()
  expect(vi.getTimerCount()).toBe(1)
  mine[1]?.destroy() // releases itself
  expect(vi.getTimerCount()).toBe(0)
  mine[0]?.destroy()
})
