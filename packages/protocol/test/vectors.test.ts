import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeEnvelope,
  domainMessage,
  entryHash,
  MembershipState,
  snapshotId,
  toHex,
  u64Bytes,
  utf8,
  verifyDomain,
} from '../src/index.js'

const read = (name: string) =>
  JSON.parse(readFileSync(new URL(`./vectors/${name}.json`, import.meta.url), 'utf8'))
const b = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'))

/**
 * The public half of the vectors in ./vectors (the relay's view: no keys). Every vector is
 * also recomputed from its inputs, keys included, by interop/vectors.test.ts.
 */
describe('protocol vectors, public part', () => {
  it.each(['chain', 'chain-v2'])(
    '%s.json appends entry by entry with the recorded chain hashes',
    (name) => {
      const v = read(name)
      const s = new MembershipState(v.docId)
      v.chain.forEach((e: string, i: number) => {
        s.append(b(e))
        expect(toHex(entryHash(v.docId, b(e)))).toBe(v.hashes[i])
      })
      expect(s.length).toBe(8)
    },
  )

  it('join-admission.json: the admission key signed the joining key at the admit index', () => {
    const v = read('join-admission')
    const parts = [utf8(v.docId), u64Bytes(v.admitIndex), b(v.joiningKey)]
    expect(toHex(domainMessage('admission', ...parts))).toBe(v.message)
    expect(verifyDomain('admission', b(v.admissionKey), b(v.signature), ...parts)).toBe(true)
    // The same signature over the old decimal encoding of the index does not verify.
    const decimal = [utf8(v.docId), utf8(String(v.admitIndex)), b(v.joiningKey)]
    expect(verifyDomain('admission', b(v.admissionKey), b(v.signature), ...decimal)).toBe(false)
  })

  it('payload-aad.json: domain, document id, u64 entry index, tag byte', () => {
    for (const v of read('payload-aad')) {
      const aad = domainMessage(
        'payload',
        utf8(v.docId),
        u64Bytes(v.entryIndex),
        Uint8Array.of(v.tag),
      )
      expect(toHex(aad)).toBe(v.aad)
    }
  })

  it('envelopes.json: every envelope decodes to its header and its signature verifies', () => {
    for (const v of read('envelopes')) {
      const e = decodeEnvelope(b(v.envelope))
      expect([e.suite, e.kind, e.epoch, e.author, e.counter]).toEqual([
        v.suite,
        v.kind,
        v.epoch,
        v.author,
        v.counter,
      ])
      expect(toHex(e.headerBytes)).toBe(v.header)
      expect(verifyDomain('envelope', b(v.authorKey), e.signature, utf8(v.docId), e.signed)).toBe(
        true,
      )
    }
  })

  it('snapshot.json: signed position in the header, snapshot id, confirmation signature', () => {
    const v = read('snapshot')
    const sealed = b(v.envelope.envelope)
    const e = decodeEnvelope(sealed)
    expect(e.kind).toBe('snapshot')
    expect(sealed[2]).toBe(6)
    expect(e.snapshot && [e.snapshot.upToSeq, e.snapshot.prevSeq, toHex(e.snapshot.prev)]).toEqual([
      v.upToSeq,
      v.prevSeq,
      v.prev,
    ])
    expect(toHex(domainMessage('snapshot-id', utf8(v.docId), sealed))).toBe(v.idInput)
    expect(toHex(snapshotId(v.docId, sealed))).toBe(v.id)
    const c = v.confirmation
    expect(toHex(domainMessage('snapshot-confirm', utf8(v.docId), b(v.id)))).toBe(c.message)
    expect(verifyDomain('snapshot-confirm', b(c.key), b(c.signature), utf8(v.docId), b(v.id))).toBe(
      true,
    )
    // The confirmation is bound to this snapshot: another id does not verify.
    const other = b(v.id).map((x, i) => (i === 0 ? x ^ 1 : x))
    expect(verifyDomain('snapshot-confirm', b(c.key), b(c.signature), utf8(v.docId), other)).toBe(
      false,
    )
    expect(c.bytes).toBe(`01${c.author.toString(16).padStart(2, '0')}${c.signature}`)
  })

  it('u64Bytes is 8 bytes big-endian and refuses what is not a safe integer >= 0', () => {
    expect(toHex(u64Bytes(70000))).toBe('0000000000011170')
    expect(toHex(u64Bytes(Number.MAX_SAFE_INTEGER))).toBe('001fffffffffffff')
    for (const n of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() => u64Bytes(n)).toThrow(expect.objectContaining({ code: 'malformed' }))
    }
    // Injective and order-preserving: bytes compare like the numbers, so no two indices share
    // an encoding (what decimal text without a length could not promise in every context).
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.maxSafeNat(), (a, b) => {
        const [x, y] = [toHex(u64Bytes(a)), toHex(u64Bytes(b))]
        expect(x.length).toBe(16)
        expect(x < y ? -1 : x > y ? 1 : 0).toBe(Math.sign(a - b))
        expect(Number(BigInt(`0x${x}`))).toBe(a)
      }),
    )
  })
})
