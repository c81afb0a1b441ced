import type { Misbehaviour } from '@valv/core'
import { MemoryStorageAdapter } from '@valv/storage-memory'
import { type ConnectOptions, cleanup, connect, until } from '@valv/test-utils/stack'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { push, rawMember, team, text } from './client-team.js'

afterEach(cleanup)

/** An update that inserts `insert` under `victim`'s Yjs client id, built on `state`. */
function forge(state: Uint8Array, victim: number, insert: string): Uint8Array {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, state)
  doc.clientID = victim
  let update: Uint8Array | undefined
  doc.on('update', (u: Uint8Array) => {
    update = u
  })
  doc.getText('t').insert(doc.getText('t').length, insert)
  return update as Uint8Array
}

describe("an editor forges insertions under another member's Yjs client id", () => {
  it('is refused by every member (also one that started from a snapshot), naming the signer', async () => {
    const { stack, anna, bo } = await team({ connect: { compactAfter: 2 } })
    const seen: Misbehaviour[] = []
    anna.provider.on('misbehaviour', (m) => seen.push(m))
    const victim = anna.provider.doc.clientID
    anna.provider.doc.getText('t').insert(0, 'Anna skrev detta.')
    await until(() => anna.provider.unsyncedChanges === 0, 5000, 'first edit acked')
    anna.provider.doc.getText('t').insert(0, '§1 ')
    await text(bo.provider, '§1 Anna skrev detta.')
    // Anna compacts: a reader arriving now starts from her snapshot, not from the updates.
    await until(() => anna.provider.binding.snapshotSeq > 0, 5000, 'snapshot')
    const late = await connect(stack.url, anna.session)
    await text(late, '§1 Anna skrev detta.')
    late.on('misbehaviour', (m) => seen.push(m))
    // Everything it has came from the snapshot: the binding must have travelled with it.
    expect(late.binding.snapshotSeq).toBe(late.binding.lastSeq)

    // Bo, a real editor, signs an insertion that Yjs would attribute to Anna.
    const state = Y.encodeStateAsUpdate(bo.provider.doc)
    const forged = forge(state, victim, ' Jag avgår.')
    const raw = await rawMember(stack, anna.session.docId)
    const seq = await push(
      raw,
      anna.session.docId,
      await bo.session.seal('update', forged, 10_000),
      1,
    )

    await until(() => seen.filter((m) => m.kind === 'impersonation').length >= 2, 5000, 'flags')
    for (const m of seen.filter((x) => x.kind === 'impersonation')) {
      expect(m.author).toBe(bo.session.author)
      expect(m.clientId).toBe(victim)
      expect(m.seq).toBe(seq)
    }
    expect(anna.provider.doc.getText('t').toString()).toBe('§1 Anna skrev detta.')
    expect(late.doc.getText('t').toString()).toBe('§1 Anna skrev detta.')
    // Deleting others' content stays legal, and honest edits carry on past the forgery.
    bo.provider.doc.getText('t').delete(0, 3)
    bo.provider.doc.getText('t').insert(0, 'Bo: ')
    await text(anna.provider, 'Bo: Anna skrev detta.')
    await text(late, 'Bo: Anna skrev detta.')
  })

  it('never trips on honest clients: reloads with local storage, two tabs, new readers', async () => {
    const { stack, anna, bo } = await team()
    const seen: Misbehaviour[] = []
    for (const m of [anna, bo]) m.provider.on('misbehaviour', (x) => seen.push(x))
    // Two tabs of the same member (same author, two Yjs client ids), one with local storage.
    const storage = { storage: new MemoryStorageAdapter() } as ConnectOptions
    const tab1 = await connect(stack.url, bo.session, storage)
    tab1.on('misbehaviour', (x) => seen.push(x))
    tab1.doc.getText('t').insert(0, 'a')
    bo.provider.doc.getText('t').insert(0, 'b')
    await until(() => anna.provider.doc.getText('t').length === 2, 5000, 'both tabs')
    await until(() => tab1.unsyncedChanges === 0, 5000, 'tab1 acked')
    // Reload tab 1 from its local state: a new Y.Doc restores the old client's content.
    await tab1.destroy()
    const again = await connect(stack.url, bo.session, storage)
    again.on('misbehaviour', (x) => seen.push(x))
    expect(again.doc.getText('t').length).toBe(2)
    again.doc.getText('t').insert(0, 'c')
    anna.provider.doc.getText('t').insert(0, 'd')
    await until(() => anna.provider.doc.getText('t').length === 4, 5000, 'after reload')
    const fresh = await connect(stack.url, anna.session)
    await until(() => fresh.doc.getText('t').length === 4, 5000, 'fresh reader')
    await new Promise((r) => setTimeout(r, 200))
    expect(seen).toEqual([])
    expect(fresh.doc.getText('t').toString()).toBe(anna.provider.doc.getText('t').toString())
  })
})
