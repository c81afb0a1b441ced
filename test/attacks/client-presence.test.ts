import type { Misbehaviour } from '@valv/core'
import { encodePresence } from '@valv/provider-websocket'
import { cleanup, connect, until } from '@valv/test-utils/stack'
import { afterEach, describe, expect, it } from 'vitest'
import { rawMember, team } from './client-team.js'

afterEach(cleanup)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const names = (p: { awareness: { getStates(): Map<number, Record<string, unknown>> } }) =>
  [...p.awareness.getStates().values()].map((s) => (s.user as { name?: string } | undefined)?.name)

describe('presence replayed into a later session', () => {
  it('a captured cursor frame of a member who left is not shown to a later session', async () => {
    const { stack, anna, bo } = await team()
    const docId = anna.session.docId
    // A raw subscriber records every presence frame the relay forwards (as a relay could).
    const spy = await rawMember(stack, docId)
    anna.provider.awareness.setLocalStateField('user', { name: 'Anna' })
    bo.provider.awareness.setLocalStateField('user', { name: 'Bo' })
    await until(() => names(anna.provider).includes('Bo'), 5000, 'Bo shown while present')
    const captured = spy.frames.flatMap((f) => (f.type === 'presence' ? [f.payload] : []))
    expect(captured.length).toBeGreaterThan(0)

    // Bo leaves.
    await bo.provider.destroy()

    // A later session (Anna opens a second tab) receives the recorded frames again.
    const later = await connect(stack.url, anna.session)
    later.awareness.setLocalStateField('user', { name: 'Anna (tab 2)' })
    for (const payload of captured) spy.send({ type: 'presence', docId, payload })
    // Anna's live first tab answers the new session and is shown: the channel works...
    await until(() => names(later).includes('Anna'), 5000, 'live member shown')
    await sleep(300)
    // ...but the ghost is not.
    expect(names(later)).not.toContain('Bo')
    // And those present when Bo left dropped his cursor at once (his `bye`), not after 30 s.
    await until(() => !names(anna.provider).includes('Bo'), 2000, 'Bo gone after leaving')
  })
})

describe('a viewer forges signed heads', () => {
  it('makes nobody accuse the relay of withholding', async () => {
    const { stack, anna, bo, vera } = await team({
      viewer: true,
      connect: { presence: { intervalMs: 200 } },
    })
    const v = vera as NonNullable<typeof vera>
    const seen: Misbehaviour[] = []
    for (const m of [anna, bo]) m.provider.on('misbehaviour', (x) => seen.push(x))
    const docId = anna.session.docId
    anna.provider.doc.getText('t').insert(0, 'x')
    await until(() => v.provider.doc.getText('t').length === 1, 5000, 'sync')
    const raw = await rawMember(stack, docId)
    // Vera claims to hold updates of Anna and Bo that were never written.
    const heads = new Map([
      [anna.session.author, 999],
      [bo.session.author, 999],
    ])
    const forged = (counter: number) =>
      v.session.seal(
        'presence',
        encodePresence({
          session: 'feedfacefeedfacefeedface',
          counter,
          sentAt: Date.now(),
          type: 'heads',
          heads,
          lastSeq: 999,
        }),
        0,
      )
    for (let i = 1; i <= 3; i++) {
      raw.send({ type: 'presence', docId, payload: await forged(i) })
      await sleep(200)
    }
    await sleep(600)
    expect(seen.filter((m) => m.kind === 'withheld')).toEqual([])
  })
})
