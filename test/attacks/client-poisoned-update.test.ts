import { EncryptedDoc, type Misbehaviour } from '@valv/core'
import { DocumentSession, Identity } from '@valv/crypto'
import { cleanup, until } from '@valv/test-utils/stack'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { push, rawMember, team, text } from './client-team.js'

afterEach(cleanup)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const fast = { presence: { intervalMs: 200 } }

describe('a joined editor sends a validly sealed update that is not valid Yjs', () => {
  it('is skipped by every member, named in misbehaviour, and nobody loops or wedges', async () => {
    const { stack, anna, bo, vera } = await team({ viewer: true, connect: fast })
    const v = vera as NonNullable<typeof vera>
    const seen: Misbehaviour[] = []
    for (const m of [anna, v]) m.provider.on('misbehaviour', (x) => seen.push(x))
    anna.provider.doc.getText('t').insert(0, 'före')
    await text(v.provider, 'före')

    // Signed and encrypted correctly by a real editor, but the plaintext is no Yjs update.
    const poison = new Uint8Array([7, 200, 200, 200, 200, 1, 2, 3])
    expect(() => Y.decodeUpdate(poison)).toThrow()
    const raw = await rawMember(stack, bo.session.docId)
    const seq = await push(
      raw,
      bo.session.docId,
      await bo.session.seal('update', poison, 10_000),
      1,
    )

    await until(() => seen.filter((m) => m.kind === 'malformed-update').length >= 2, 5000, 'flag')
    for (const m of seen.filter((x) => x.kind === 'malformed-update')) {
      expect(m.author).toBe(bo.session.author)
      expect(m.seq).toBe(seq)
    }
    await until(() => v.provider.binding.lastSeq >= seq, 5000, 'seq consumed')

    // Everyone carries on: later honest edits from both writers reach everyone.
    anna.provider.doc.getText('t').insert(4, ' och efter')
    bo.provider.doc.getText('t').insert(0, 'Bo: ')
    await text(v.provider, 'Bo: före och efter', 'viewer sees later edits')
    await text(anna.provider, 'Bo: före och efter', 'admin sees later edits')

    // No resync loop: the relay carries only presence (today: about 1,000 messages a second).
    const before = stack.relay.metrics.messagesIn + stack.relay.metrics.messagesOut
    await sleep(1000)
    const after = stack.relay.metrics.messagesIn + stack.relay.metrics.messagesOut
    expect(after - before).toBeLessThan(200)
    expect(seen.some((m) => m.kind === 'withheld')).toBe(false)
  })

  it('any byte-level corruption of a signed update is applied whole or not at all (property)', async () => {
    const me = await Identity.create({ displayName: 'Anna' })
    const session = await DocumentSession.create(me)
    const src = new Y.Doc()
    const updates: Uint8Array[] = []
    src.on('update', (u: Uint8Array) => updates.push(u))
    src.getText('t').insert(0, 'hello world')
    src.getMap('m').set('k', new Y.Map())
    ;(src.getMap('m').get('k') as Y.Map<unknown>).set('x', 1)
    src.getText('t').insert(5, ' there')
    src.getText('t').delete(0, 2)
    const base = updates[0] as Uint8Array
    const origin = {}
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: updates.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        async (which, flips) => {
          const doc = new Y.Doc()
          const b = new EncryptedDoc({ doc, docId: session.docId, crypto: session })
          await b.ready
          doc.getText('t').observe(() => undefined)
          let seq = 0
          await b.receiveUpdate(await session.seal('update', base, 1), ++seq, origin)
          const u = new Uint8Array(updates[which] as Uint8Array)
          for (const [at, byte] of flips) u[at % u.length] = byte
          const before = Y.encodeStateAsUpdate(doc)
          const r = await b.receiveUpdate(await session.seal('update', u, 2), ++seq, origin)
          if (r === 'rejected') expect(Y.encodeStateAsUpdate(doc)).toEqual(before)
          else expect(r).toBe('applied')
          // The sequence number is consumed either way; the next update applies.
          expect(b.lastSeq).toBe(2)
          const next = new Y.Doc()
          next.getText('t').insert(0, 'z')
          const res = await b.receiveUpdate(
            await session.seal('update', Y.encodeStateAsUpdate(next), 3),
            ++seq,
            origin,
          )
          expect(res).toBe('applied')
          expect(b.lastSeq).toBe(3)
          expect(b.hasGap).toBe(false)
          await b.destroy()
        },
      ),
      { numRuns: 150 },
    )
  })
})

describe('an application observer throws while a valid update is applied', () => {
  it('counts the update as applied: no withholding accusation, no loop, edits keep syncing', async () => {
    const { stack, anna, bo } = await team({ connect: fast })
    const seen: Misbehaviour[] = []
    const errors: Error[] = []
    anna.provider.on('misbehaviour', (m) => seen.push(m))
    anna.provider.on('error', (e) => errors.push(e))
    // As an editor binding with a bug does: it throws inside Yjs' observer call.
    let calls = 0
    anna.provider.doc.getText('t').observe(() => {
      calls++
      throw new Error('binding bug')
    })
    bo.provider.doc.getText('t').insert(0, 'ett')
    await text(anna.provider, 'ett')
    bo.provider.doc.getText('t').insert(3, ' två')
    await text(anna.provider, 'ett två')
    // Several heads intervals later (200 ms each) nobody was accused and nothing loops.
    const before = stack.relay.metrics.messagesIn + stack.relay.metrics.messagesOut
    await sleep(1200)
    expect(seen.filter((m) => m.kind === 'withheld')).toEqual([])
    expect(anna.provider.binding.hasGap).toBe(false)
    expect(anna.provider.binding.lastSeq).toBe(bo.provider.binding.lastSeq)
    const after = stack.relay.metrics.messagesIn + stack.relay.metrics.messagesOut
    expect(after - before).toBeLessThan(200)
    // The application's error is surfaced, not swallowed.
    expect(calls).toBeGreaterThanOrEqual(2)
    expect(errors.filter((e) => (e as { code?: string }).code === 'observer-threw')).toHaveLength(
      calls,
    )
    // And edits the other way still arrive (the buggy observer throws here too, locally).
    expect(() => anna.provider.doc.getText('t').insert(0, '> ')).toThrow('binding bug')
    await text(bo.provider, '> ett två')
  })
})
