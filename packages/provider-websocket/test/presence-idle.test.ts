/**
 * Idle cost of presence on the real relay: a document alone sends nothing after announcing its
 * session; another member arriving starts the signed heads exchange (withholding detection),
 * and it stops again once that member is gone.
 */
import { cleanup, startStack, until } from '@valv/test-utils/stack'
import { afterEach, describe, expect, it } from 'vitest'
import { startProxy, startRoom } from './harness.js'

afterEach(cleanup)

const fast = { presence: { intervalMs: 50 } }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('presence of an idle document', () => {
  it('is silent alone, exchanges heads while another member is present, and stops after it left', async () => {
    const h = await startStack()
    const r = await startRoom(h.url, 2)
    await r.adminProvider.destroy()
    let sent = 0
    const proxy = await startProxy(h.url, () => (f, toClient) => {
      if (!toClient && f.type === 'presence') sent++
      return [f]
    })
    const a = await r.connect(r.editors[0]!, { ...fast, url: proxy })
    await a.whenSynced()
    await until(() => sent > 0, 5000, 'announcement')
    await sleep(200)
    const announced = sent
    await sleep(1000) // 20 intervals alone
    expect(sent).toBe(announced)

    const b = await r.connect(r.editors[1]!, fast)
    await b.whenSynced()
    await until(() => sent >= announced + 5, 5000, 'heads exchange')
    // Cursors still reach a member that joined an idle document.
    a.awareness.setLocalStateField('cursor', { anchor: 1 })
    await until(() => b.awareness.getStates().get(a.awareness.clientID)?.cursor?.anchor === 1)

    await b.destroy()
    await sleep(1000) // past 6 quiet intervals
    const quiet = sent
    await sleep(500)
    expect(sent).toBe(quiet)
  })
})
