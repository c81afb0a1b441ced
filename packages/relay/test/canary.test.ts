import { TestMemoryStorage } from '@valv/test-utils/relay'
import { describe, expect, it } from 'vitest'
import { envelope, key } from '../../protocol/test/chain.js'
import { appendChain, newCast, send, startRelay, write } from './setup.js'

const CANARY = 'CANARY-7f3a-plaintext'

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return true
  }
  return false
}

describe('relay stores and logs no plaintext', () => {
  it('finds no client canary in storage, logs or metrics', async () => {
    const storage = new TestMemoryStorage()
    const h = await startRelay({
      storage,
      extensions: [
        {
          onAuthenticate({ context, token }) {
            context.token = token // integrators may keep it; the relay must not log it
          },
        },
      ],
    })
    const text = (s: string) => new TextEncoder().encode(s)
    const cast = await newCast()
    const a = await h.client([cast.docId], `bearer ${CANARY}`)
    const b = await h.client([cast.docId])
    await appendChain(a, cast)
    for (let i = 1; i <= 5; i++)
      expect(await write(a, cast.editor, i, text(`${CANARY} #${i}`))).toBe(i)
    const cursor = await cast.viewer.seal('presence', text(`${CANARY} cursor`), 1)
    a.send({ type: 'presence', docId: cast.docId, payload: cursor })
    await b.next((f) => f.type === 'presence')
    const position = { upToSeq: 3, prevSeq: 0, prev: new Uint8Array(32) }
    a.send({
      type: 'snapshot-upload',
      docId: cast.docId,
      ref: 99,
      prevSeq: 0,
      upToSeq: 3,
      snapshot: await cast.editor.seal('snapshot', text(`${CANARY} snapshot`), 50, position),
    })
    await a.next((f) => f.type === 'ack' && f.ref === 99)
    // A rejected write carrying the plaintext in the clear must not leak into logs either.
    expect(await write(a, cast.viewer, 1, text(CANARY))).toBe('forbidden')
    const viewer = cast.viewer.myIndex as number
    const clear = envelope(cast.docId, key(), { author: viewer }, text(CANARY))
    expect(await send(a, cast.docId, clear)).toBe('bad-signature')
    await h.relay.close()
    const needle = new TextEncoder().encode(CANARY)
    expect(storage.values.size).toBeGreaterThan(0)
    for (const [k, v] of storage.values) {
      expect(k).not.toContain('CANARY')
      expect(contains(v, needle)).toBe(false)
    }
    const logText = h.logs.map((r) => JSON.stringify(r)).join('\n')
    expect(h.logs.length).toBeGreaterThan(5)
    expect(logText).not.toContain('CANARY')
    expect(logText).not.toContain('bearer')
  })
})
