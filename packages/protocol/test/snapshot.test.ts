import { ed25519 } from '@noble/curves/ed25519.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CryptoError,
  confirmationMessage,
  decodeEnvelope,
  encodeConfirmation,
  Role,
  snapshotId,
  verifyConfirmation,
  verifyEnvelope,
} from '../src/index.js'
import { addMember, envelope, genesis, key } from './chain.js'

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
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
  return {
    ...c,
    editor,
    viewer,
    e: addMember(c, editor, Role.Editor),
    v: addMember(c, viewer, Role.Viewer),
  }
}

describe('snapshot envelopes and confirmations', () => {
  it('sign their position: upToSeq, prevSeq and the previous id survive a round trip', () => {
    const r = room()
    const snapshot = { upToSeq: 9, prevSeq: 4, prev: new Uint8Array(32).fill(3) }
    const bytes = envelope(r.docId, r.editor, { author: r.e, kind: 'snapshot', snapshot })
    expect(verifyEnvelope(r.state, bytes, { kind: 'snapshot' }).snapshot).toEqual(snapshot)
    // The position is signed: changing upToSeq breaks the signature.
    const header = decodeEnvelope(bytes).headerBytes.length
    const moved = bytes.slice()
    const at = header - 34
    moved[at] = (moved[at] as number) + 1
    expect(() => verifyEnvelope(r.state, moved)).toThrow(CryptoError)
    // Covering nothing, or no header at all, does not encode.
    const bad = { upToSeq: 4, prevSeq: 4, prev: new Uint8Array(32) }
    expect(() =>
      envelope(r.docId, r.editor, { author: r.e, kind: 'snapshot', snapshot: bad }),
    ).toThrow(CryptoError)
    expect(() => envelope(r.docId, r.editor, { author: r.e, kind: 'snapshot' })).toThrow(
      CryptoError,
    )
  })

  it('decodes any truncation of a snapshot envelope to a typed error only (property)', () => {
    const r = room()
    const snapshot = { upToSeq: 300, prevSeq: 0, prev: new Uint8Array(32) }
    const bytes = envelope(r.docId, r.editor, { author: r.e, kind: 'snapshot', snapshot })
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), (n) => {
        expect(() => verifyEnvelope(r.state, bytes.slice(0, n))).toThrow(CryptoError)
      }),
    )
  })

  it('accepts a confirmation only from a writer, over that snapshot, in that document', async () => {
    const r = room()
    const id = snapshotId(r.docId, new Uint8Array([1, 2, 3]))
    const sign = (secret: Uint8Array, docId = r.docId, what = id) =>
      ed25519.sign(confirmationMessage(docId, what), secret)
    const good = encodeConfirmation(r.e, sign(r.editor.secret))
    expect((await verifyConfirmation(r.state, good, id)).author).toBe(r.e)
    const other = snapshotId(r.docId, new Uint8Array([1, 2, 4]))
    expect(await codeOf(verifyConfirmation(r.state, good, other))).toBe('bad-signature')
    const elsewhere = encodeConfirmation(r.e, sign(r.editor.secret, 'another-doc'))
    expect(await codeOf(verifyConfirmation(r.state, elsewhere, id))).toBe('bad-signature')
    const byViewer = encodeConfirmation(r.v, sign(r.viewer.secret))
    expect(await codeOf(verifyConfirmation(r.state, byViewer, id))).toBe('not-authorised')
    expect(await codeOf(verifyConfirmation(r.state, good.slice(0, 20), id))).toBe('malformed')
    const v2 = good.slice()
    v2[0] = 2
    expect(await codeOf(verifyConfirmation(r.state, v2, id))).toBe('unsupported-version')
  })
})
