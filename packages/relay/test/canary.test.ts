import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { randomBytes } from '@noble/ciphers/utils.js'
import { concatBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { TestMemoryStorage } from './memory-storage.js'
import { setupMembers, startRelay, write } from './setup.js'

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
    const key = randomBytes(32)
    const seal = (text: string) => {
      const nonce = randomBytes(24)
      return concatBytes(
        nonce,
        xchacha20poly1305(key, nonce).encrypt(new TextEncoder().encode(text)),
      )
    }
    const a = await h.client(['doc'], `bearer ${CANARY}`)
    const b = await h.client(['doc'])
    const cast = await setupMembers(a, 'doc')
    for (let i = 1; i <= 5; i++)
      expect(await write(a, cast.editor, 'doc', i, seal(`${CANARY} #${i}`))).toBe(i)
    const { signUpdate } = await import('./signed.js')
    const cursor = signUpdate(cast.viewer, 'doc', 0, seal(`${CANARY} cursor`))
    a.send({ type: 'presence', docId: 'doc', payload: cursor })
    await b.next((f) => f.type === 'presence')
    const { signSnapshot } = await import('./signed.js')
    const position = { upToSeq: 3, prevSeq: 0, prev: new Uint8Array(32) }
    a.send({
      type: 'snapshot-upload',
      docId: 'doc',
      ref: 99,
      prevSeq: 0,
      upToSeq: 3,
      snapshot: signSnapshot(cast.editor, 'doc', 50, position, seal(`${CANARY} snapshot`)),
    })
    await a.next((f) => f.type === 'ack' && f.ref === 99)
    // A rejected write with a plaintext payload must not leak into logs either.
    expect(await write(a, cast.viewer, 'doc', 1, new TextEncoder().encode(CANARY))).toBe(
      'forbidden',
    )
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
