/**
 * Erasure on the relay, attacked: an editor (not an admin) sends an erase request; an admin's
 * request is replayed on another connection, or after the chain moved on, or after it was
 * honoured; a removed member comes back after the erasure. Real relay with `defaultVerifier()`,
 * real sessions, and the relay's own signed audit trail checked with `verifyTrail`.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ed25519 } from '@noble/curves/ed25519.js'
import { verifyTrail } from '@valv/compliance'
import { DocumentSession, Identity, PublicCard, Role, signEraseRequest } from '@valv/crypto'
import { encodeEraseRequest, eraseRequestMessage, toHex } from '@valv/protocol'
import { uploadFile } from '@valv/provider-websocket'
import { defaultVerifier, Relay } from '@valv/relay'
import { DocumentStore, type StorageAdapter } from '@valv/storage'
import { FsStorageAdapter } from '@valv/storage-fs'
import {
  cleanup,
  onCleanup,
  RawClient,
  type Stack,
  startStack,
  until,
} from '@valv/test-utils/stack'
import type { Frame } from '@valv/wire'
import { afterEach, describe, expect, it } from 'vitest'
import { documentSigningSecret } from '../../packages/crypto/src/identity.js'

afterEach(cleanup)

/** An authenticated raw socket subscribed to `docId`, and its relay session id. */
async function socket(stack: Stack, docId: string) {
  const raw = await stack.raw()
  await (await raw.auth()).subscribe(docId)
  const ok = await raw.next((f) => f.type === 'auth-ok')
  return { raw, sessionId: ok.sessionId }
}

/** Send `erase` as `ref`; the relay's answer. */
async function erase(raw: RawClient, docId: string, request: Uint8Array, ref: number) {
  raw.send({ type: 'erase', docId, ref, request })
  return raw.next((f: Frame) => (f.type === 'ack' || f.type === 'error') && f.ref === ref)
}

const codeOf = (f: Frame) => (f.type === 'error' ? f.code : f.type)

/** Every key the storage holds under `prefix`. */
async function keys(storage: StorageAdapter, prefix: string[]): Promise<string[]> {
  const out: string[] = []
  const walk = async (p: string[]): Promise<void> => {
    const value = await storage.get(p).catch(() => undefined)
    if (value !== undefined) out.push(p.join('/'))
    for await (const child of storage.listChildren(p)) await walk([...p, child])
  }
  await walk(prefix)
  return out
}

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'valv-erase-'))
  onCleanup(() => rm(dir, { recursive: true, force: true }))
  const key = randomBytes(32)
  const storage = new FsStorageAdapter({ directory: dir, fsync: false })
  const stack = await startStack({ storage, audit: { key } })
  const admin = await DocumentSession.create(await Identity.create({ displayName: 'Anna' }))
  const anna = await stack.connect(admin)
  const invite = async (name: string, role: Role) => {
    const id = await Identity.create({ displayName: name })
    await admin.share(PublicCard.parse(id.card.toString()), role)
    const session = await DocumentSession.open(id, admin.docId)
    const provider = await stack.connect(session)
    await session.joined()
    return { session, provider, userId: id.userId, id }
  }
  const bo = await invite('Bo', Role.Editor)
  const carl = await invite('Carl', Role.Editor)
  anna.doc.getText('t').insert(0, 'personnummer 19121212-1212')
  await until(() => bo.provider.doc.getText('t').length > 0, 10_000, 'sync')
  await uploadFile(anna, admin, new Uint8Array(5000).fill(7))
  return { dir, key, storage, stack, admin, anna, bo, carl, docId: admin.docId }
}

describe('erasure on the relay (erase frame)', () => {
  it('refuses non-admins and replays; an admin erases everything, the id stays refused, a removed member cannot write, the relay audits it', async () => {
    const { dir, key, storage, stack, admin, anna, bo, carl, docId } = await setup()
    expect((await keys(storage, ['docs', docId])).length).toBeGreaterThan(3)

    // Carl is removed (keys rotated) but keeps a socket and his old session.
    const carlSocket = await socket(stack, docId)
    const envelope = await carl.session.seal('update', new Uint8Array([1, 2, 3]), 99)
    await admin.unshare(carl.userId)
    carl.provider.destroy()

    // 1. An editor signs an erase request with his real key: the relay refuses it.
    const boSocket = await socket(stack, docId)
    // Bo's real per-document key, derived as his session derives it (it never hands it out).
    const boSecret = documentSigningSecret(bo.id, docId)
    const chainLength = admin.membershipLength()
    const fields = { sessionId: boSocket.sessionId, chainLength }
    const forged = encodeEraseRequest(
      bo.session.myIndex as number,
      chainLength,
      ed25519.sign(eraseRequestMessage(docId, fields), boSecret),
    )
    expect(codeOf(await erase(boSocket.raw, docId, forged, 1))).toBe('forbidden')
    await expect(signEraseRequest(bo.session, fields)).rejects.toMatchObject({
      code: 'invalid-state',
    })

    // 2. The admin's request, replayed on another connection (another session id): refused.
    const annaSocket = await socket(stack, docId)
    const mine = { sessionId: annaSocket.sessionId, chainLength: admin.membershipLength() }
    const request = await signEraseRequest(admin, mine)
    expect(codeOf(await erase(boSocket.raw, docId, request, 2))).toBe('bad-signature')
    // …or signed for an older chain state: refused.
    const old = await signEraseRequest(admin, { ...mine, chainLength: mine.chainLength - 1 })
    expect(codeOf(await erase(annaSocket.raw, docId, old, 3))).toBe('stale')
    expect((await keys(storage, ['docs', docId])).length).toBeGreaterThan(3)

    // 3. The admin's request on its own connection: erased.
    anna.destroy()
    bo.provider.destroy()
    const ack = await erase(annaSocket.raw, docId, request, 4)
    expect(ack.type).toBe('ack')
    const notice = await boSocket.raw.next((f) => f.type === 'error' && f.ref === 0)
    expect(codeOf(notice)).toBe('erased')
    expect(await keys(storage, ['docs', docId])).toEqual([])

    // 4. The same request again: the document is gone.
    expect(codeOf(await erase(annaSocket.raw, docId, request, 5))).toBe('erased')

    // 5. The removed member comes back with his old keys: subscribe and writes are refused.
    carlSocket.raw.send({ type: 'envelope', docId, ref: 6, envelope })
    const refused = await carlSocket.raw.next((f) => f.type === 'error' && f.ref === 6)
    expect(['erased', 'not-subscribed']).toContain(codeOf(refused))
    const again = await stack.raw()
    await again.auth()
    again.send({ type: 'subscribe', docId, sinceSeq: 0, snapshotSeq: 0, membershipFrom: 0 })
    expect(codeOf(await again.next((f) => f.type === 'error' && f.docId === docId))).toBe('erased')
    again.send({ type: 'envelope', docId, ref: 7, envelope })
    expect(codeOf(await again.next((f) => f.type === 'error' && f.ref === 7))).toBe(
      'not-subscribed',
    )
    expect(await keys(storage, ['docs', docId])).toEqual([])

    // 6. The relay's trail: signed by its key, intact, and it says what happened.
    const audit = stack.relay.audit
    if (audit === undefined) throw new Error('no audit trail')
    expect(toHex(audit.publicKey)).toBe(toHex(ed25519.getPublicKey(key)))
    const records = await audit.export()
    const verdict = await verifyTrail(records, { signers: new Set([audit.keyId]) })
    expect(verdict.ok).toBe(true)
    const entries = verdict.entries
    const types = entries.map((e) => e.type)
    expect(types).toContain('membership.appended')
    expect(entries.filter((e) => e.type === 'erasure.refused').map((e) => e.details?.code)).toEqual(
      ['forbidden', 'bad-signature', 'stale'],
    )
    const erased = entries.filter((e) => e.type === 'erasure')
    expect(erased).toHaveLength(1)
    expect(erased[0]?.subject).toBe(docId)
    expect(entries.some((e) => e.type === 'write.refused' && e.details?.code === 'erased')).toBe(
      true,
    )
    // No content in the trail: the text and the file bytes appear nowhere.
    const all = Buffer.concat(records.map((r) => Buffer.from(r)))
    expect(all.includes(Buffer.from('19121212'))).toBe(false)

    // 7. A relay restarted on the same storage still refuses the id and continues the trail.
    await stack.relay.close()
    const relay2 = new Relay({
      storage: new FsStorageAdapter({ directory: dir, fsync: false }),
      verifier: defaultVerifier(),
      logger: () => undefined,
      audit: { key },
    })
    onCleanup(() => relay2.close())
    const { port } = await relay2.listen(0, '127.0.0.1')
    const late = await RawClient.open(`ws://127.0.0.1:${port}`)
    await late.auth()
    late.send({ type: 'subscribe', docId, sinceSeq: 0, snapshotSeq: 0, membershipFrom: 0 })
    expect(codeOf(await late.next((f) => f.type === 'error'))).toBe('erased')
    const more = await relay2.audit?.export()
    const verdict2 = await verifyTrail(more ?? [], { signers: new Set([audit.keyId]) })
    expect(verdict2.ok).toBe(true)
    expect(verdict2.entries.length).toBeGreaterThan(entries.length)
  }, 60_000)

  it('without an audit key the relay refuses erase frames (an erasure must leave a record)', async () => {
    const stack = await startStack()
    const admin = await DocumentSession.create(await Identity.create())
    await stack.connect(admin)
    const { raw, sessionId } = await socket(stack, admin.docId)
    const request = await signEraseRequest(admin, {
      sessionId,
      chainLength: admin.membershipLength(),
    })
    expect(codeOf(await erase(raw, admin.docId, request, 1))).toBe('forbidden')
    expect(await keys(stack.storage, ['docs', admin.docId])).not.toEqual([])
  }, 30_000)
})

describe('erasure on the relay: uploads in flight', () => {
  it('a chunk being written when the erase lands leaves no part behind; later chunks are refused with erased', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'valv-erase-upload-'))
    onCleanup(() => rm(dir, { recursive: true, force: true }))
    const inner = new FsStorageAdapter({ directory: dir, fsync: false })
    // The first upload part's write is held until the erasure's tombstone is durable, and then
    // until the document's data was deleted (the unfixed relay) or 200 ms passed (the fixed
    // relay waits for this write before it deletes): the write lands after the erase.
    let deleted = false
    let held!: () => void
    const holding = new Promise<void>((r) => {
      held = r
    })
    let docId = ''
    let first = true
    const storage = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'putStream') {
          return async (key: string[], source: AsyncIterable<Uint8Array>) => {
            if (first && key.some((k) => k.startsWith('part.'))) {
              first = false
              held()
              await until(async () => (await inner.get(['erased', docId])) !== undefined, 10_000)
              const since = Date.now()
              await until(() => deleted || Date.now() - since > 200, 10_000)
            }
            return target.putStream(key, source)
          }
        }
        if (prop === 'deletePrefix') {
          return async (prefix: string[]) => {
            await target.deletePrefix(prefix)
            deleted = true
          }
        }
        const value = Reflect.get(target, prop, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      },
    }) as StorageAdapter
    const stack = await startStack({ storage, audit: { key: randomBytes(32) } })
    const admin = await DocumentSession.create(await Identity.create({ displayName: 'Anna' }))
    docId = admin.docId
    await stack.connect(admin)
    const up = await socket(stack, docId)
    const blobId = 'c'.repeat(43)
    const grant = await admin.signBlobGrant({
      op: 'upload',
      blobId,
      size: 0,
      sessionId: up.sessionId,
    })
    up.raw.send({ type: 'blob-begin', docId, ref: 1, blobId, size: 0, grant })
    await up.raw.next((f) => f.type === 'ack' && f.ref === 1)
    const data = new Uint8Array(1000).fill(9)
    up.raw.send({ type: 'blob-chunk', docId, ref: 2, blobId, offset: 0, data })
    await holding

    const eraser = await socket(stack, docId)
    const request = await signEraseRequest(admin, {
      sessionId: eraser.sessionId,
      chainLength: admin.membershipLength(),
    })
    expect((await erase(eraser.raw, docId, request, 1)).type).toBe('ack')
    await up.raw.next((f) => (f.type === 'ack' || f.type === 'error') && f.ref === 2)
    // Nothing of the document is left, not the part that was being written.
    const blobs = async () => {
      const names: string[] = []
      for await (const n of new DocumentStore(inner).listBlobs(docId)) names.push(n)
      return names
    }
    expect(await blobs()).toEqual([])
    expect(await keys(inner, ['docs', docId])).toEqual([])
    up.raw.send({ type: 'blob-chunk', docId, ref: 3, blobId, offset: 1000, data })
    expect(codeOf(await up.raw.next((f) => f.type === 'error' && f.ref === 3))).toBe('erased')
    expect(await blobs()).toEqual([])
    expect(await keys(inner, ['docs', docId])).toEqual([])
  }, 30_000)
})
