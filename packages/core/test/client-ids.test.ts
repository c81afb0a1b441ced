import fc from 'fast-check'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { decodeCheckpoint, emptyCheckpoint, encodeCheckpoint } from '../src/checkpoint.js'
import {
  ClientIds,
  MAX_CLIENT_IDS_PER_AUTHOR,
  readClientIds,
  writeClientIds,
} from '../src/client-ids.js'
import { applyContained, inspectUpdate } from '../src/remote-update.js'

const encode = (t: ClientIds) => {
  const enc = encoding.createEncoder()
  writeClientIds(enc, t)
  return encoding.toUint8Array(enc)
}

describe('client-id table', () => {
  it('binds on first use, refuses another signer, allows the owner again', () => {
    const t = new ClientIds()
    expect(t.refuse('anna', [1, 2])).toBeUndefined()
    t.bind('anna', [1, 2])
    expect(t.refuse('bo', [3, 2])).toBe(2)
    expect(t.refuse('anna', [1, 2, 4])).toBeUndefined()
    expect(t.owner(2)).toBe('anna')
    const other = new ClientIds([
      [2, 'bo'],
      [9, 'bo'],
    ])
    expect(t.merge(other)).toEqual([2])
    expect(t.owner(9)).toBe('bo')
  })

  it('bounds the ids one author may bind', () => {
    const t = new ClientIds()
    const many = Array.from({ length: MAX_CLIENT_IDS_PER_AUTHOR }, (_, i) => i)
    t.bind('anna', many)
    expect(t.refuse('anna', [MAX_CLIENT_IDS_PER_AUTHOR + 1])).toBe('too-many')
    expect(t.refuse('bo', [MAX_CLIENT_IDS_PER_AUTHOR + 1])).toBeUndefined()
  })

  it('encodes canonically and round-trips (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: 2 ** 32 - 1 }), fc.constantFrom('a', 'b', 'c')), {
          maxLength: 50,
        }),
        (pairs) => {
          const t = new ClientIds()
          for (const [id, a] of pairs) t.bind(a, [id])
          const back = readClientIds(decoding.createDecoder(encode(t)))
          expect(new Map(back.entries())).toEqual(new Map(t.entries()))
          const shuffled = new ClientIds([...t.entries()].reverse())
          expect(encode(shuffled)).toEqual(encode(t))
        },
      ),
    )
  })

  it('a checkpoint written before binding decodes with an empty table; a new one keeps it', () => {
    const cp = { ...emptyCheckpoint(), counter: 7 }
    const full = encodeCheckpoint(cp)
    const old = full.subarray(0, full.length - 1) // the empty table is one byte: 0 authors
    expect(decodeCheckpoint(old).clientIds.size).toBe(0)
    const t = new ClientIds([[42, 'anna']])
    expect(decodeCheckpoint(encodeCheckpoint({ ...cp, clientIds: t })).clientIds.owner(42)).toBe(
      'anna',
    )
  })
})

describe('remote update checks', () => {
  it('names the client ids an update inserts under, not those it deletes from', () => {
    const a = new Y.Doc()
    a.getText('t').insert(0, 'abc')
    const b = new Y.Doc()
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    let del: Uint8Array | undefined
    b.on('update', (u: Uint8Array) => {
      del = u
    })
    b.getText('t').delete(0, 1)
    expect([...inspectUpdate(b, Y.encodeStateAsUpdate(a))]).toEqual([a.clientID])
    expect([...inspectUpdate(a, del as Uint8Array)]).toEqual([])
  })

  it('tells an observer that threw from an update that failed', () => {
    const doc = new Y.Doc()
    doc.getText('t').observe(() => {
      throw new Error('app')
    })
    const src = new Y.Doc()
    src.getText('t').insert(0, 'x')
    const ok = applyContained(doc, Y.encodeStateAsUpdate(src), 'remote')
    expect(ok.applied).toBe(true)
    expect(ok.applied && (ok.observerError as Error).message).toBe('app')
    expect(doc.getText('t').toString()).toBe('x')
    const bad = applyContained(doc, new Uint8Array([1, 5, 200]), 'remote')
    expect(bad.applied).toBe(false)
  })

  it('refuses whole an update that plain Yjs would apply halfway before throwing', () => {
    // Client 7 inserts 'q'; client 5's last item names a later struct of its own client as
    // origin: Yjs integrates 'q' and 'ab', then throws in the middle of the transaction.
    const good = new Y.Doc()
    good.clientID = 7
    good.getText('u').insert(0, 'q')
    const bad = new Y.Doc()
    bad.clientID = 5
    bad.getText('t').insert(0, 'ab')
    bad.getMap('m').set('k', 1)
    const gs = Y.decodeUpdate(Y.encodeStateAsUpdate(good)).structs
    const bs = Y.decodeUpdate(Y.encodeStateAsUpdate(bad)).structs
    ;(bs[bs.length - 1] as Y.Item).origin = Y.createID(5, 9)
    const enc = new Y.UpdateEncoderV1()
    encoding.writeVarUint(enc.restEncoder, 2)
    for (const [client, structs] of [
      [7, gs],
      [5, bs],
    ] as const) {
      encoding.writeVarUint(enc.restEncoder, structs.length)
      enc.writeClient(client)
      encoding.writeVarUint(enc.restEncoder, 0)
      for (const st of structs) st.write(enc, 0)
    }
    encoding.writeVarUint(enc.restEncoder, 0)
    const update = enc.toUint8Array()

    const plain = new Y.Doc()
    expect(() => Y.applyUpdate(plain, update)).toThrow()
    expect(plain.getText('u').toString()).toBe('q') // half applied
    const doc = new Y.Doc()
    expect(() => inspectUpdate(doc, update)).toThrow(/later struct/)
    expect(Y.encodeStateVector(doc)).toEqual(Y.encodeStateVector(new Y.Doc()))
  })
})
