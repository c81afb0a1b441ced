/**
 * An integrator's async `onConnect` veto (e.g. an IP reputation lookup taking 150 ms) must
 * gate everything: a client that pipelines `auth` and `subscribe` gets nothing before the 4401.
 */
import { DocumentSession, Identity } from '@valv/crypto'
import { cleanup, RawClient, startStack, until } from '@valv/test-utils/stack'
import { CloseCode } from '@valv/wire'
import { afterEach, describe, expect, it } from 'vitest'

afterEach(cleanup)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('relay: hooks gate every frame', () => {
  it('an async onConnect veto (150 ms) lets no auth-ok, membership or synced out', async () => {
    const s = await startStack({
      extensions: [
        {
          async onConnect({ request }) {
            await sleep(150)
            if (request.url?.includes('veto')) throw new Error('blocked address')
          },
        },
      ],
    })
    const anna = await Identity.create({ displayName: 'Anna' })
    const doc = await DocumentSession.create(anna)
    const p = await s.connect(doc)
    p.doc.getText('t').insert(0, 'private')
    await until(() => s.relay.metrics.messagesIn > 2)

    const mallory = await RawClient.open(`${s.url}/?veto`)
    await mallory.auth('', { wait: false })
    mallory.send({
      type: 'subscribe',
      docId: doc.docId,
      sinceSeq: 0,
      snapshotSeq: 0,
      membershipFrom: 0,
    })
    expect(await mallory.closed()).toBe(CloseCode.Unauthenticated)
    expect(mallory.frames.map((f) => f.type)).toEqual([])

    // Without the veto the same pipelined frames are served, in order, once the hook passed.
    const honest = await RawClient.open(s.url)
    await honest.auth('', { wait: false })
    honest.send({
      type: 'subscribe',
      docId: doc.docId,
      sinceSeq: 0,
      snapshotSeq: 0,
      membershipFrom: 0,
    })
    await honest.next((f) => f.type === 'synced')
    expect(honest.frames[0]?.type).toBe('auth-ok')
    expect(honest.frames.some((f) => f.type === 'membership')).toBe(true)
  })
})
