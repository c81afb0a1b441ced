import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bytesToHex as hex } from '@noble/hashes/utils.js'
import { encodeSnapshotBody } from '@valv/core'
import { DocumentSession, Identity, PublicCard, Role } from '@valv/crypto'
import { snapshotId } from '@valv/protocol'
import { FsStorageAdapter } from '@valv/storage-fs'
import { cleanup, startStack, until } from '@valv/test-utils/stack'
import type { Frame } from '@valv/wire'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const reader = join(root, 'interop/python/valv_reader.py')

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync('python3', [reader, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  })
}

function python(args: string[], env: Record<string, string> = {}) {
  const r = run(args, env)
  if (r.status !== 0) throw new Error(`valv_reader.py ${args[0]} failed: ${r.stderr}`)
  return JSON.parse(r.stdout)
}

/** `hex` with the byte at `at` (from the end when negative) flipped. */
function flip(hexBytes: string, at: number): string {
  const b = Buffer.from(hexBytes, 'hex')
  const i = at < 0 ? b.length + at : at
  b[i] = (b[i] ?? 0) ^ 1
  return b.toString('hex')
}

afterEach(cleanup)

/** What a relay serves on `subscribe` from 0, as the spec's `valv-log1` dump. */
async function dumpOf(stack: Awaited<ReturnType<typeof startStack>>, docId: string) {
  const raw = await (await (await stack.raw()).auth()).subscribe(docId)
  const of = <T extends Frame['type']>(t: T) =>
    raw.frames.filter((f): f is Extract<Frame, { type: T }> => f.type === t)
  const snap = of('snapshot').find((f) => f.confirmed)
  const pending = of('snapshot').find((f) => !f.confirmed)
  raw.ws.close()
  return {
    format: 'valv-log1',
    docId,
    membership: of('membership').map((f) => hex(f.entry)),
    snapshot:
      snap === undefined
        ? null
        : {
            upToSeq: snap.upToSeq,
            envelope: hex(snap.snapshot),
            confirmation: hex(snap.confirmation),
          },
    pending:
      pending === undefined ? null : { upToSeq: pending.upToSeq, envelope: hex(pending.snapshot) },
    updates: of('deliver').map((f) => ({ seq: f.seq, envelope: hex(f.envelope) })),
  }
}

describe('the independent Python reader (interop/python/valv_reader.py)', () => {
  it('recomputes every protocol and primitive vector', () => {
    const out = python([
      'vectors',
      join(root, 'packages/protocol/test/vectors'),
      join(root, 'packages/crypto/test/primitives/vectors.json'),
    ])
    expect(out).toEqual({
      chain: 3,
      'chain-v2': 3,
      envelopes: 6,
      'epoch-keys': 2,
      'file-chunks': 3,
      frames: 18,
      'join-admission': 1,
      'payload-aad': 3,
      presence: 3,
      primitives: 31,
      'recipient-hint': 2,
      snapshot: 1,
    })
  })

  it('reads a document the TypeScript stack wrote through the real relay into fs storage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'valv-interop-'))
    try {
      const storage = () => new FsStorageAdapter({ directory: dir, fsync: false })
      const stack = await startStack({ storage: storage() })
      const anna = await Identity.create({ displayName: 'Anna Berg' })
      const bo = await Identity.create({ displayName: 'Bo Ek' })
      const cy = await Identity.create({ displayName: 'Cy Lund' })
      const annaS = await DocumentSession.create(anna)
      const annaDoc = (await stack.connect(annaS)).doc
      const text = annaDoc.getText('text')
      text.insert(0, 'Protokoll från styrelsemötet. ')
      await annaS.share(PublicCard.parse(bo.card.toString()), Role.Editor)
      await annaS.share(PublicCard.parse(cy.card.toString()), Role.Viewer)
      const boS = await DocumentSession.open(bo, annaS.docId)
      const boDoc = (await stack.connect(boS)).doc
      await boS.joined()
      const cyS = await DocumentSession.open(cy, annaS.docId)
      await stack.connect(cyS)
      await cyS.joined()
      await until(() => boDoc.getText('text').length > 0, 10_000, 'bo sees the text')
      boDoc.getText('text').insert(boDoc.getText('text').length, 'Budgeten 😀 antas. ')
      await until(() => text.toString().includes('antas'), 10_000, 'anna sees bo')
      text.delete(0, 10) // "Protokoll " goes
      await annaS.unshare(cy.userId) // set-role none + rotate: epoch 1
      text.insert(text.length, 'Cy ser inte detta.')
      await until(() => boDoc.getText('text').toString() === text.toString(), 10_000, 'converge')
      const expected = text.toString()
      await stack.relay.close()

      // A fresh relay on the same directory serves what storage holds.
      const again = await startStack({ storage: storage() })
      const dump = await dumpOf(again, annaS.docId)
      expect(dump.snapshot).toBeNull()
      writeFileSync(join(dir, 'dump.json'), JSON.stringify(dump))
      const args = (log: string) => [
        'read',
        '--identity',
        join(dir, 'identity.txt'),
        '--passphrase-env',
        'VALV_PASS',
        '--log',
        join(dir, log),
      ]
      const read = async (who: Identity) => {
        writeFileSync(join(dir, 'identity.txt'), await who.export('lösenord', { N: 2 ** 10 }))
        return python(args('dump.json'), { VALV_PASS: 'lösenord' })
      }

      const a = await read(anna)
      expect(a.text).toEqual({ text: expected })
      expect(a.rejected).toEqual([])
      expect(a.updates).toHaveLength(dump.updates.length)
      expect(a.chain.length).toBe(dump.membership.length)
      expect(a.chain.epoch).toBe(1)
      expect(a.me).toEqual({ index: 0, role: 'admin' })
      expect(a.chain.members.map((m: { name: string; role: string }) => [m.name, m.role])).toEqual([
        ['Anna Berg', 'admin'],
        ['Bo Ek', 'editor'],
        ['Cy Lund', 'none'],
      ])
      // Sizes are those of the plaintext Yjs updates the TypeScript sessions opened.
      const sizes: number[] = []
      for (const u of dump.updates) {
        sizes.push(
          (await annaS.open('update', Uint8Array.from(Buffer.from(u.envelope, 'hex')))).plaintext
            .length,
        )
      }
      expect(a.updates.map((u: { size: number }) => u.size)).toEqual(sizes)

      const b = await read(bo)
      expect(b.text).toEqual({ text: expected })
      expect(b.me.role).toBe('editor')

      // The removed viewer reads only what was written before the rotation.
      const c = await read(cy)
      expect(c.me.role).toBe('none')
      expect(c.epochs).toEqual([0])
      expect(c.rejected.length).toBeGreaterThan(0)
      expect(new Set(c.rejected.map((r: { reason: string }) => r.reason))).toEqual(
        new Set(['unknown-epoch']),
      )
      expect(c.text.text).not.toContain('Cy ser inte')

      // The reader checks, not just decodes: a flipped bit in an update's signature is
      // refused, one in a membership entry stops the read, and a wrong passphrase is refused.
      const first = dump.updates[0] as { seq: number; envelope: string }
      const tampered = { ...dump, updates: [{ ...first, envelope: flip(first.envelope, -1) }] }
      writeFileSync(join(dir, 'tampered.json'), JSON.stringify(tampered))
      const t = python(args('tampered.json'), { VALV_PASS: 'lösenord' })
      expect(t.rejected).toEqual([{ seq: first.seq, reason: 'bad-signature' }])
      const badChain = {
        ...dump,
        membership: dump.membership.map((e, i) => (i === 1 ? flip(e, 40) : e)),
      }
      writeFileSync(join(dir, 'bad-chain.json'), JSON.stringify(badChain))
      const bc = run(args('bad-chain.json'), { VALV_PASS: 'lösenord' })
      expect(bc.status).toBe(1)
      expect(JSON.parse(bc.stderr).error).toBe('bad-signature')
      const wrong = run(args('dump.json'), { VALV_PASS: 'fel' })
      expect(JSON.parse(wrong.stderr).error).toBe('bad-passphrase')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('reads a compacted document: a confirmed snapshot and the updates after it; a pending one is never the base', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'valv-interop-'))
    try {
      const stack = await startStack({
        storage: new FsStorageAdapter({ directory: dir, fsync: false }),
      })
      const anna = await Identity.create({ displayName: 'Anna Berg' })
      const bo = await Identity.create({ displayName: 'Bo Ek' })
      const annaS = await DocumentSession.create(anna)
      const annaP = await stack.connect(annaS, { compactAfter: 4 })
      const annaDoc = annaP.doc
      await annaS.share(PublicCard.parse(bo.card.toString()), Role.Editor)
      const boS = await DocumentSession.open(bo, annaS.docId)
      // Bo never compacts; he recomputes Anna's snapshots and confirms them (a second writer).
      const boP = await stack.connect(boS, { compactAfter: 0 })
      const boDoc = boP.doc
      await boS.joined()
      const a = annaDoc.getText('text')
      const b = boDoc.getText('text')
      const words = ['Ärende 1: ', 'budget. ', 'Ärende 2: ', 'lokaler. ', 'Övrigt. ']
      for (const [i, w] of words.entries()) {
        const t = i % 2 === 0 ? a : b
        t.insert(i === 3 ? 0 : t.length, w)
        await until(() => a.toString() === b.toString(), 10_000, 'converge')
      }
      a.delete(2, 3)
      b.insert(b.length, 'Slut.')
      await until(() => a.toString() === b.toString() && a.toString().endsWith('Slut.'))
      let dump = await dumpOf(stack, annaS.docId)
      await until(
        async () => {
          dump = await dumpOf(stack, annaS.docId)
          return dump.snapshot !== null
        },
        15_000,
        'a snapshot on the relay',
      )
      // Write until the relay holds a snapshot and a tail after it (Anna compacts every 4).
      for (let i = 0; i < 6 && dump.updates.length === 0; i++) {
        b.insert(0, '§')
        await until(() => a.toString() === b.toString())
        dump = await dumpOf(stack, annaS.docId)
      }
      expect(dump.snapshot).not.toBeNull()
      expect(dump.updates.length).toBeGreaterThan(0)
      writeFileSync(join(dir, 'identity.txt'), await bo.export('hemligt ord', { N: 2 ** 10 }))
      const readDump = (d: typeof dump) => {
        writeFileSync(join(dir, 'dump.json'), JSON.stringify(d))
        const args = ['--identity', join(dir, 'identity.txt'), '--passphrase-env', 'P']
        return python(['read', ...args, '--log', join(dir, 'dump.json')], { P: 'hemligt ord' })
      }
      const base = dump.snapshot as { upToSeq: number; envelope: string; confirmation: string }
      const baseId = snapshotId(annaS.docId, Buffer.from(base.envelope, 'hex'))
      const out = readDump(dump)
      expect(out.rejected).toEqual([])
      expect(out.snapshot.upToSeq).toBe(base.upToSeq)
      expect(out.snapshot.id).toBe(hex(baseId))
      expect(out.snapshot.authorIndex).toBe(annaS.myIndex)
      expect(out.snapshot.confirmedBy).toBe(boS.myIndex)
      expect(out.snapshot.clientIds).toBeGreaterThan(0)
      expect(out.text).toEqual({ text: a.toString() })

      // Bo goes offline; Anna compacts again and nobody can confirm: the snapshot stays pending.
      boP.disconnect()
      for (let i = 0; i < 5; i++) {
        a.insert(a.length, `${i}`)
        await until(() => annaP.unsyncedChanges === 0, 10_000, 'ack')
      }
      await until(
        async () => {
          dump = await dumpOf(stack, annaS.docId)
          return dump.pending !== null
        },
        15_000,
        'a pending snapshot on the relay',
      )
      expect(dump.snapshot?.upToSeq).toBe(base.upToSeq)
      const pending = dump.pending as { upToSeq: number; envelope: string }
      const p = readDump(dump)
      expect(p.snapshot.upToSeq).toBe(base.upToSeq)
      expect(p.pending).toMatchObject({ upToSeq: pending.upToSeq, status: 'matches' })
      expect(p.text).toEqual({ text: a.toString() })

      // A forged pending snapshot (Bo's real key, another text, on the same base) is caught by
      // recomputation and changes nothing the reader shows.
      const forgedDoc = new Y.Doc()
      forgedDoc.getText('text').insert(0, 'Beslut: ja.')
      const forged = await boS.seal(
        'snapshot',
        encodeSnapshotBody({
          gc: true,
          counters: new Map(Object.entries(p.snapshot.counters as Record<string, number>)),
          state: Y.encodeStateAsUpdateV2(forgedDoc),
        }),
        0,
        { upToSeq: pending.upToSeq, prevSeq: base.upToSeq, prev: baseId },
      )
      const f = readDump({ ...dump, pending: { ...pending, envelope: hex(forged) } })
      expect(f.pending.status).toBe('differs')
      expect(f.pending.differs).toEqual(expect.arrayContaining(['clientIds', 'clocks', 'text']))
      expect(f.text).toEqual({ text: a.toString() })

      // Served as a base with its author's own confirmation, it is refused, not used.
      const self = await boS.confirmSnapshot(snapshotId(annaS.docId, forged))
      const asBase = readDump({
        ...dump,
        snapshot: { upToSeq: pending.upToSeq, envelope: hex(forged), confirmation: hex(self) },
        pending: null,
        updates: dump.updates.filter((u) => u.seq > pending.upToSeq),
      })
      expect(asBase.snapshot).toBeNull()
      expect(asBase.rejected).toContainEqual({
        snapshot: pending.upToSeq,
        reason: 'not-authorised',
      })
      expect(asBase.text.text ?? '').not.toContain('Beslut: ja.')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
