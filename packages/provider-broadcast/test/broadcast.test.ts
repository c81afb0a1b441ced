import { EncryptedDoc } from '@valv/core'
import { Role } from '@valv/crypto'
import { BroadcastProvider } from '@valv/provider-broadcast'
import { type SharedDocument, sharedDocument } from '@valv/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

const open: BroadcastProvider[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.destroy()))
})

/** A document of real sessions: admin (person 0), an editor (1) and a viewer (2). */
async function cast() {
  const room = await sharedDocument([Role.Editor, Role.Viewer])
  return { room, admin: 0, editor: 1, viewer: 2 }
}

/** A tab of person `who`: its own session (a device that verified the chain before). */
async function tab(room: SharedDocument, who: number, channel?: string) {
  const doc = new Y.Doc()
  const p = new BroadcastProvider({
    doc,
    docId: room.docId,
    document: await room.open(who),
    ...(channel ? { channel } : {}),
  })
  open.push(p)
  await p.binding.ready
  return { doc, p }
}

const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('BroadcastProvider (Node BroadcastChannel)', () => {
  it('two tabs share live edits without a relay, and a late tab catches up', async () => {
    const { room, admin, editor } = await cast()
    const a = await tab(room, admin)
    const b = await tab(room, editor)
    a.doc.getText('t').insert(0, 'from A')
    await until(() => b.doc.getText('t').toString() === 'from A')
    b.doc.getText('t').insert(6, ', from B')
    await until(() => a.doc.getText('t').toString() === 'from A, from B')
    const c = await tab(room, editor)
    const synced = new Promise((r) => c.p.on('synced', r))
    await synced
    expect(c.doc.getText('t').toString()).toBe('from A, from B')
  })

  it('puts only sealed bytes on the channel (no plaintext canary)', async () => {
    const { room, admin, editor } = await cast()
    const seen: Uint8Array[] = []
    const spy = new BroadcastChannel(`valv:${room.docId}`)
    spy.onmessage = (e) => seen.push((e.data as { sealed: Uint8Array }).sealed)
    try {
      const a = await tab(room, admin)
      const b = await tab(room, editor)
      const canary = 'CANARY-bc-4711'
      a.doc.getText('t').insert(0, canary)
      await until(() => b.doc.getText('t').toString() === canary)
      expect(seen.length).toBeGreaterThan(0)
      const needle = Buffer.from(canary)
      for (const bytes of seen) expect(Buffer.from(bytes).includes(needle)).toBe(false)
    } finally {
      spy.close()
    }
  })

  it('drops a viewer tab’s edit and a forged message; shares nothing across channels', async () => {
    const { room, admin, viewer } = await cast()
    const a = await tab(room, admin)
    const rejected: unknown[] = []
    const shared = new EncryptedDoc({
      doc: new Y.Doc(),
      docId: room.docId,
      crypto: await room.open(viewer),
    })
    const v = new BroadcastProvider({ binding: shared })
    open.push(v)
    a.p.binding.on('rejected', (e) => rejected.push(e))
    // The viewer seals an update itself (its binding refuses to), as a hostile tab would.
    const forged = new Y.Doc()
    forged.getText('t').insert(0, 'viewer text')
    const sealed = await shared.crypto.seal('update', Y.encodeStateAsUpdate(forged), 1)
    const ch = new BroadcastChannel(`valv:${room.docId}`)
    ch.postMessage({ t: 'update', sealed })
    ch.postMessage({ t: 'update', sealed: new Uint8Array(300) })
    ch.postMessage('garbage')
    await until(() => rejected.length === 2)
    ch.close()
    expect(a.doc.getText('t').toString()).toBe('')
    const other = await tab(room, admin, 'elsewhere')
    a.doc.getText('t').insert(0, 'mine')
    // The viewer's own tab opens its own forged message (a member's own data always opens), so
    // only the admin's edit is checked there; the admin tab above stayed clean.
    await until(() => v.binding.doc.getText('t').toString().includes('mine'))
    expect(a.doc.getText('t').toString()).toBe('mine')
    expect(other.doc.getText('t').toString()).toBe('')
    await shared.destroy()
  })
})
