import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { bytesToHex as hex } from '@noble/hashes/utils.js'
import { CryptoError, DocumentSession, Identity, memoryKeyStore } from '@valv/crypto'
import { entryHash, MembershipState, Role } from '@valv/protocol'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { KeyRing } from '../packages/crypto/src/keyring.js'
import { type ChainReader, deterministicVectors, recordChain, unhex } from './vectors.js'

const dir = fileURLToPath(new URL('../packages/protocol/test/vectors/', import.meta.url))
const read = (name: string) => JSON.parse(readFileSync(`${dir}${name}.json`, 'utf8'))
const write = (name: string, v: unknown) =>
  writeFileSync(`${dir}${name}.json`, `${JSON.stringify(v, null, 2)}\n`)
// VALV_WRITE_VECTORS=1 rewrites the files after a deliberate format change.
const rewrite = process.env.VALV_WRITE_VECTORS === '1'

describe('protocol vectors (packages/protocol/test/vectors)', () => {
  it('fixed inputs give exactly the checked-in bytes, file by file', async () => {
    const fresh = await deterministicVectors()
    for (const [name, v] of Object.entries(fresh)) {
      if (rewrite) write(name, v)
      expect(read(name), name).toEqual(JSON.parse(JSON.stringify(v)))
    }
  })

  // chain-v2.json is a membership version 2 chain (before recipient hints), kept as recorded.
  it.each(['chain', 'chain-v2'])(
    '%s.json verifies, hashes as recorded, and each reader derives its recorded keys',
    async (name) => {
      if (name === 'chain' && (rewrite || !existsSync(`${dir}chain.json`)))
        write('chain', await recordChain())
      const v = read(name)
      const state = new MembershipState(v.docId)
      v.chain.forEach((e: string, i: number) => {
        state.append(unhex(e))
        expect(hex(entryHash(v.docId, unhex(e)))).toBe(v.hashes[i])
        expect(hex(state.head)).toBe(v.hashes[i])
      })
      expect(v.kinds).toEqual([
        'genesis',
        'admit',
        'join',
        'admit',
        'join',
        'rotate',
        'set-role',
        'rotate',
      ])
      expect(state.epoch).toBe(2)
      const opened: Record<string, string[]> = {}
      for (const r of v.readers as ChainReader[]) {
        const me = await Identity.import(r.identity, v.passphrase)
        const s = await DocumentSession.open(me, v.docId, { keyStore: memoryKeyStore() })
        for (const [i, e] of (v.chain as string[]).entries()) await s.applyMembership(i, unhex(e))
        expect(s.myIndex, r.name).toBe(r.memberIndex)
        const epochs = (s as unknown as { chain: { ring: KeyRing } }).chain.ring.epochs
        expect([...epochs.keys()].map(String).sort(), r.name).toEqual(Object.keys(r.epochs).sort())
        for (const [n, k] of Object.entries(r.epochs)) {
          const got = epochs.get(Number(n))
          expect(got?.roster && hex(got.roster)).toBe(k.roster)
          expect(got?.secret && hex(got.secret)).toBe(k.secret)
        }
        opened[r.name] = []
        for (const env of v.envelopes) {
          try {
            const o = await s.open('update', unhex(env.envelope))
            const doc = new Y.Doc()
            Y.applyUpdate(doc, o.plaintext)
            opened[r.name]?.push(doc.getText('text').toString())
          } catch (err) {
            expect((err as CryptoError).code).toBe('unknown-epoch')
          }
        }
      }
      // Cy was removed before epoch 2: the late envelope stays closed to it.
      expect(opened).toEqual({
        anna: [v.envelopes[0].text, v.envelopes[1].text],
        bo: [v.envelopes[0].text, v.envelopes[1].text],
        cy: [v.envelopes[0].text],
      })
      expect(state.roleOf((v.readers as ChainReader[])[2]?.memberIndex ?? -1)).toBe(Role.None)
      expect(CryptoError).toBeDefined()
    },
  )
})
