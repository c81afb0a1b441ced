import { getUnixTime } from 'lib0/time'
import { type Awareness, outdatedTimeout, removeAwarenessStates } from 'y-protocols/awareness'

/**
 * y-protocols runs a 3 s interval in every `Awareness` (renew the local state every 15 s, drop
 * remote states silent for 30 s). With hundreds of open documents those timers, each waking the
 * event loop on its own, were most of the idle cost of a document. Awareness instances a
 * provider created itself are checked here instead, all in one tick, with the same rules.
 */
const adopted = new Set<Awareness>()
let ticker: ReturnType<typeof setInterval> | undefined

/** One awareness, as y-protocols' own interval does it. */
function check(aw: Awareness, now: number): void {
  const local = aw.getLocalState()
  const lastUpdated = aw.meta.get(aw.clientID)?.lastUpdated ?? now
  if (local !== null && outdatedTimeout / 2 <= now - lastUpdated) aw.setLocalState(local)
  const remove: number[] = []
  aw.meta.forEach((meta, client) => {
    if (
      client !== aw.clientID &&
      outdatedTimeout <= now - meta.lastUpdated &&
      aw.states.has(client)
    ) {
      remove.push(client)
    }
  })
  if (remove.length > 0) removeAwarenessStates(aw, remove, 'timeout')
}

function tick(): void {
  // The clock y-protocols stamps `meta.lastUpdated` with.
  const now = getUnixTime()
  for (const aw of adopted) check(aw, now)
}

/**
 * Take over the periodic check of `aw` (one the caller created and owns): its own interval is
 * stopped and a shared one checks it. Returns the function that releases it (also released
 * when the awareness is destroyed).
 */
export function adoptAwareness(aw: Awareness): () => void {
  clearInterval(
    (aw as unknown as { _checkInterval: ReturnType<typeof setInterval> })._checkInterval,
  )
  adopted.add(aw)
  ticker ??= setInterval(tick, Math.floor(outdatedTimeout / 10))
  const release = (): void => {
    aw.off('destroy', release)
    adopted.delete(aw)
    if (adopted.size === 0 && ticker !== undefined) {
      clearInterval(ticker)
      ticker = undefined
    }
  }
  aw.on('destroy', release)
  return release
}
