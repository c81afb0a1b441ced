import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { entryHash, MembershipState, Role, toHex, verifyEnvelope } from '../src/index.js'
import { entry, envelope, genesis, joinEntry, key } from './chain.js'

const file = fileURLToPath(new URL('./vectors.json', import.meta.url))
const AT = 1_800_000_000

/**
 * Fixed keys, times and inputs → fixed bytes. A second implementation that produces and
 * accepts these bytes interoperates with this one (see docs/protocol.md).
 */
function build() {
  const admin = key(1)
  const member = key(2)
  const admission = key(3)
  const c = genesis(admin, new Uint8Array(16).fill(7))
  const s = new MembershipState(c.docId)
  const at = { at: AT }
  const chain = [
    entry(
      s,
      admin,
      {
        kind: 'genesis',
        nonce: new Uint8Array(16).fill(7),
        suite: 1,
        writeRole: Role.Editor,
        historyPolicy: 0,
        keyCommitment: new Uint8Array(32).fill(1),
      },
      at,
    ),
  ]
  s.append(chain[0] as Uint8Array)
  const admit = entry(
    s,
    admin,
    { kind: 'admit', admissionKey: admission.pub, role: Role.Editor, expiresAt: 0, maxUses: 1 },
    at,
  )
  s.append(admit)
  chain.push(admit)
  const join = joinEntry(s, member, admission, 1, AT)
  s.append(join)
  chain.push(join)
  const upd = envelope(c.docId, member, { author: 2, counter: 1 }, new Uint8Array(40).fill(5))
  verifyEnvelope(s, upd, { kind: 'update' })
  return {
    docId: c.docId,
    keys: {
      admin: toHex(admin.secret),
      member: toHex(member.secret),
      admission: toHex(admission.secret),
    },
    chain: chain.map(toHex),
    heads: chain.map((e) => toHex(entryHash(c.docId, e))),
    updateEnvelope: toHex(upd),
  }
}

describe('test vectors', () => {
  it('fixed inputs give the bytes checked in as vectors.json', () => {
    const fresh = build()
    if (process.env.UPDATE_VECTORS === '1')
      writeFileSync(file, `${JSON.stringify(fresh, null, 2)}\n`)
    const stored = JSON.parse(readFileSync(file, 'utf8'))
    expect(fresh).toEqual(stored)
    // The stored chain verifies as a whole.
    const s = new MembershipState(stored.docId)
    for (const e of stored.chain) s.append(Uint8Array.from(Buffer.from(e, 'hex')))
    expect(s.roleOf(2)).toBe(Role.Editor)
    const upd = Uint8Array.from(Buffer.from(stored.updateEnvelope, 'hex'))
    expect(verifyEnvelope(s, upd).counter).toBe(1)
  })
})
