import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CounterWindow,
  CryptoError,
  decodeEnvelope,
  encodeEnvelopeHeader,
  Role,
  verifyEnvelope,
} from '../src/index.js'
import { addMember, entry, envelope, genesis, key } from './chain.js'

const code = (fn: () => unknown): string => {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(CryptoError)
    return (err as CryptoError).code
  }
  throw new Error('did not throw')
}

function room() {
  const c = genesis()
  const editor = key()
  const viewer = key()
  const e = addMember(c, editor, Role.Editor)
  const v = addMember(c, viewer, Role.Viewer)
  return { ...c, editor, viewer, e, v }
}

describe('envelopes', () => {
  it('round-trips the header and keeps the overhead small', () => {
    const r = room()
    const bytes = envelope(r.docId, r.editor, { author: r.e, counter: 300, epoch: 0 })
    const env = decodeEnvelope(bytes)
    expect(env).toMatchObject({ suite: 1, kind: 'update', epoch: 0, author: r.e, counter: 300 })
    // Header + signature + length prefix, around a 48-byte ciphertext.
    expect(bytes.length - 48).toBeLessThanOrEqual(
      encodeEnvelopeHeader({ suite: 1, kind: 'update', epoch: 0, author: r.e, counter: 300 })
        .length +
        1 +
        64,
    )
  })

  it('accepts an editor update and rejects a viewer update', () => {
    const r = room()
    const ok = verifyEnvelope(r.state, envelope(r.docId, r.editor, { author: r.e }), {
      kind: 'update',
    })
    expect(ok.member.index).toBe(r.e)
    expect(code(() => verifyEnvelope(r.state, envelope(r.docId, r.viewer, { author: r.v })))).toBe(
      'not-authorised',
    )
    // Viewers may send presence.
    const p = envelope(r.docId, r.viewer, { author: r.v, kind: 'presence' })
    expect(verifyEnvelope(r.state, p).kind).toBe('presence')
  })

  it('rejects removed members, foreign signatures, other documents and unknown epochs', () => {
    const r = room()
    r.state.append(entry(r.state, r.admin, { kind: 'set-role', member: r.e, role: Role.None }))
    expect(code(() => verifyEnvelope(r.state, envelope(r.docId, r.editor, { author: r.e })))).toBe(
      'not-authorised',
    )
    const s = room()
    // Signed by the viewer but claiming to be the editor.
    expect(code(() => verifyEnvelope(s.state, envelope(s.docId, s.viewer, { author: s.e })))).toBe(
      'bad-signature',
    )
    // A valid envelope of one document does not verify for another.
    const other = genesis(key(5))
    expect(code(() => verifyEnvelope(other.state, envelope(s.docId, s.admin, { author: 0 })))).toBe(
      'bad-signature',
    )
    expect(
      code(() => verifyEnvelope(s.state, envelope(s.docId, s.editor, { author: s.e, epoch: 1 }))),
    ).toBe('unknown-epoch')
  })

  it('refuses oversized envelopes before parsing, and kind mismatches', () => {
    const r = room()
    const bytes = envelope(r.docId, r.editor, { author: r.e })
    expect(code(() => verifyEnvelope(r.state, bytes, { maxBytes: 10 }))).toBe('too-large')
    expect(code(() => verifyEnvelope(r.state, bytes, { kind: 'snapshot' }))).toBe('malformed')
  })

  it('checkpoints are accepted only from their own author', () => {
    const r = room()
    const cp = envelope(r.docId, r.editor, { author: r.e, kind: 'checkpoint' })
    expect(code(() => verifyEnvelope(r.state, cp))).toBe('not-authorised')
    expect(verifyEnvelope(r.state, cp, { selfIndex: r.e }).kind).toBe('checkpoint')
  })

  it('rejects every bit flip, truncation and extension (property)', () => {
    const r = room()
    const good = envelope(r.docId, r.editor, { author: r.e, counter: 7 })
    fc.assert(
      fc.property(
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        fc.constantFrom('flip', 'cut', 'grow'),
        (pos, bit, how) => {
          const i = pos % good.length
          const bad =
            how === 'flip'
              ? good.map((x, j) => (j === i ? x ^ (1 << bit) : x))
              : how === 'cut'
                ? good.slice(0, i)
                : new Uint8Array([...good, bit])
          expect(() => verifyEnvelope(r.state, bad)).toThrow(CryptoError)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('counter windows reject replays and regressions', () => {
    const w = new CounterWindow()
    w.accept('a', 1)
    w.accept('a', 5)
    w.accept('b', 1)
    expect(code(() => w.accept('a', 5))).toBe('replay')
    expect(code(() => w.accept('a', 2))).toBe('replay')
    expect(w.newest('a')).toBe(5)
  })
})
