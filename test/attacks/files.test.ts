/**
 * Files through the relay, attacked: a viewer uploads, a stranger or a removed member
 * downloads, a grant is replayed on another connection, an upload breaks off mid-way, the
 * quota is overrun. Real relay (in process, and the CLI on the filesystem), real crypto.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DocumentSession, Identity, Role } from '@valv/crypto'
import {
  deleteFile,
  downloadFile,
  uploadFile,
  type WebsocketProvider,
} from '@valv/provider-websocket'
import { DocumentStore } from '@valv/storage'
import {
  cleanup,
  connect,
  onCleanup,
  startRelayProcess,
  startStack,
  until,
} from '@valv/test-utils/stack'
import { WIRE_VERSION } from '@valv/wire'
import { afterEach, describe, expect, it } from 'vitest'
import { rawMember, team } from './client-team.js'

afterEach(cleanup)

const MiB = 1024 * 1024
const CANARY = new TextEncoder().encode('VALV-FILE-CANARY-PLAINTEXT-7f3a')

/** `size` bytes of plaintext with the canary every 64 KiB (compressible, recognisable). */
function plaintext(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed) & 0xff
  for (let at = 0; at + CANARY.length <= size; at += 65536) out.set(CANARY, at)
  return out
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

async function readAll(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(s).arrayBuffer())
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.length).includes(Buffer.from(needle))
}

async function rejection(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p
  } catch (e) {
    return (e as { relayCode?: string }).relayCode ?? (e as Error).message
  }
  return 'resolved'
}

async function blobNames(storage: DocumentStore, docId: string): Promise<string[]> {
  const names: string[] = []
  for await (const n of storage.listBlobs(docId)) if (!n.startsWith('member-')) names.push(n)
  return names
}

describe('files: streamed through the relay in bounded memory', () => {
  it('20 MiB and 60 MiB files travel intact, relay RSS does not grow with file size, disk holds ciphertext only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'valv-files-'))
    onCleanup(() => rm(dir, { recursive: true, force: true }))
    const relay = await startRelayProcess(['--storage', `fs:${dir}`])
    const anna = await DocumentSession.create(await Identity.create({ displayName: 'Anna' }))
    const p = await connect(relay.url, anna)
    const rss = async () =>
      Number(/^process_resident_memory_bytes (\d+)/m.exec(await relay.metrics())?.[1])
    // Warm up (module code, storage directories) with a 1 MiB file first.
    const warm = await uploadFile(p, anna, plaintext(MiB, 2))
    await readAll(downloadFile(p, anna, warm))
    const before = await rss()
    /** Upload and download `file`; the peak RSS growth of the relay meanwhile. */
    const roundTrip = async (file: Uint8Array) => {
      let peak = before
      let sampling = true
      const sampler = (async () => {
        while (sampling) {
          peak = Math.max(peak, await rss())
          await new Promise((r) => setTimeout(r, 50))
        }
      })()
      const stored = await uploadFile(p, anna, file)
      const back = await readAll(downloadFile(p, anna, stored))
      sampling = false
      await sampler
      expect(back.length).toBe(file.length)
      expect(sha(back)).toBe(sha(file))
      expect(stored.storedBytes).toBeGreaterThan(file.length) // padded and tagged
      return peak - before
    }
    const small = await roundTrip(plaintext(20 * MiB))
    const large = await roundTrip(plaintext(60 * MiB, 5))
    console.log(
      `relay RSS ${(before / MiB).toFixed(1)} MiB; peak growth 20 MiB file ${(small / MiB).toFixed(1)} MiB, 60 MiB file ${(large / MiB).toFixed(1)} MiB`,
    )
    // Buffering a file would add 40 MiB between the two; streaming adds GC noise at most.
    expect(large).toBeLessThan(small + 16 * MiB)
    expect(large).toBeLessThan(48 * MiB)
    const metrics = await relay.metrics()
    expect(metrics).toMatch(/valv_relay_files_total\{event="committed"\} 3/)
    expect(metrics).toMatch(/valv_relay_files_total\{event="downloaded"\} 3/)
    // Every byte the relay wrote to disk: no plaintext canary anywhere.
    let files = 0
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue
      files++
      const bytes = await readFile(join(entry.parentPath, entry.name))
      expect(contains(bytes, CANARY)).toBe(false)
    }
    expect(files).toBeGreaterThan(0)
  }, 240_000)

  it('an upload broken off mid-way resumes from the stored offset after a reconnect', async () => {
    const s = await startStack()
    const anna = await DocumentSession.create(await Identity.create({ displayName: 'Anna' }))
    const p = await s.connect(anna)
    const file = plaintext(6 * MiB, 7)
    const m = s.relay.metrics
    const upload = uploadFile(p, anna, file)
    await until(() => (m.files.get('bytes-in') ?? 0) >= 2 * MiB, 20_000, 'half the upload')
    // The connection drops (retryable close); the provider reconnects on its own.
    ;(p as unknown as { connection: { ws: { close(code: number): void } } }).connection.ws.close(
      4000,
    )
    const stored = await upload
    expect(m.files.get('resumed')).toBe(1)
    // Resumed, not restarted: the relay received the file about once (plus one window).
    expect(m.files.get('bytes-in')).toBeLessThan(stored.storedBytes + 1.5 * MiB)
    expect(sha(await readAll(downloadFile(p, anna, stored)))).toBe(sha(file))
    const names = await blobNames(new DocumentStore(s.storage), anna.docId)
    expect(names).toEqual([`file.${stored.blobId}.${stored.storedBytes}`])
  }, 60_000)

  it('an uncommitted upload is not downloadable and is collected once stale', async () => {
    const s = await startStack({ limits: { uploadTtlMs: 200 } })
    const anna = await DocumentSession.create(await Identity.create({ displayName: 'Anna' }))
    const p = await s.connect(anna)
    const raw = await rawMember(s, anna.docId)
    const sessionId = raw.frames.find((f) => f.type === 'auth-ok')?.sessionId as string
    const docId = anna.docId
    const blobId = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
    const grant = await anna.signBlobGrant({ op: 'upload', blobId, size: 0, sessionId })
    raw.send({ type: 'blob-begin', docId, ref: 1, blobId, size: 0, grant })
    await raw.next((f) => f.type === 'ack' && f.ref === 1)
    raw.send({ type: 'blob-chunk', docId, ref: 2, blobId, offset: 0, data: new Uint8Array(1000) })
    await raw.next((f) => f.type === 'ack' && f.ref === 2 && f.seq === 1000)
    // A chunk at the wrong offset changes nothing.
    raw.send({ type: 'blob-chunk', docId, ref: 3, blobId, offset: 5, data: new Uint8Array(9) })
    await raw.next((f) => f.type === 'error' && f.ref === 3 && f.code === 'blob-conflict')
    const read = await anna.signBlobGrant({ op: 'download', blobId, size: 0, sessionId })
    raw.send({ type: 'blob-fetch', docId, ref: 4, blobId, offset: 0, grant: read })
    await raw.next((f) => f.type === 'error' && f.ref === 4 && f.code === 'not-found')
    raw.ws.terminate()
    const store = new DocumentStore(s.storage)
    expect((await blobNames(store, docId)).some((n) => n.startsWith('part.'))).toBe(true)
    await new Promise((r) => setTimeout(r, 300))
    // The next upload's begin collects the stale one.
    const stored = await uploadFile(p, anna, plaintext(1000))
    expect(await blobNames(store, docId)).toEqual([`file.${stored.blobId}.${stored.storedBytes}`])
    expect(s.relay.metrics.files.get('expired')).toBe(1)
  }, 30_000)
})

describe('files: only writers upload, only members download', () => {
  it('a viewer cannot upload or delete; a stranger, a replayed grant and a removed member cannot download', async () => {
    const { stack, anna, bo, vera } = await team({ viewer: true })
    const v = vera as { session: DocumentSession; provider: WebsocketProvider }
    const file = plaintext(300_000, 3)
    const stored = await uploadFile(bo.provider, bo.session, file)
    // The viewer reads it, but cannot write or delete files.
    expect(sha(await readAll(downloadFile(v.provider, v.session, stored)))).toBe(sha(file))
    expect(await rejection(uploadFile(v.provider, v.session, plaintext(10)))).toBe('forbidden')
    expect(await rejection(deleteFile(v.provider, v.session, stored.blobId))).toBe('forbidden')
    // A stranger (a member of another document) subscribed to this one.
    const docId = anna.session.docId
    const eve = await DocumentSession.create(await Identity.create({ displayName: 'Eve' }))
    const raw = await rawMember(stack, docId)
    const sessionId = raw.frames.find((f) => f.type === 'auth-ok')?.sessionId as string
    const blobId = stored.blobId
    const fields = { op: 'download', blobId, size: 0, sessionId } as const
    const forged = await eve.signBlobGrant(fields)
    raw.send({ type: 'blob-fetch', docId, ref: 1, blobId, offset: 0, grant: forged })
    const e1 = await raw.next((f) => f.type === 'error' && f.ref === 1)
    expect(e1).toMatchObject({ code: expect.stringMatching(/forbidden|bad-signature/) })
    // Bo's real grant, bound to Bo's connection, replayed on the stranger's.
    const bos = bo.provider.sessionId as string
    const replayed = await bo.session.signBlobGrant({ ...fields, sessionId: bos })
    raw.send({ type: 'blob-fetch', docId, ref: 2, blobId, offset: 0, grant: replayed })
    await raw.next((f) => f.type === 'error' && f.ref === 2 && f.code === 'bad-signature')
    expect(raw.frames.some((f) => f.type === 'blob-data')).toBe(false)
    // Bo is removed: his next download is refused by the relay.
    const boUser = anna.session.members().find((m) => m.role === Role.Editor)?.userId as string
    await anna.session.unshare(boUser)
    expect(await rejection(readAll(downloadFile(bo.provider, bo.session, stored)))).toBe(
      'forbidden',
    )
    expect(stack.relay.metrics.rejections.get('forbidden')).toBeGreaterThanOrEqual(3)
    // A writer deletes the file; it is gone.
    await deleteFile(anna.provider, anna.session, stored.blobId)
    expect(await rejection(readAll(downloadFile(anna.provider, anna.session, stored)))).toBe(
      'not-found',
    )
  }, 60_000)
})

describe('files: quota per document', () => {
  it('refuses an upload over the quota and keeps nothing of it; erasing the document erases its files', async () => {
    const s = await startStack({ limits: { fileQuotaBytes: 1 * MiB } })
    const anna = await DocumentSession.create(await Identity.create({ displayName: 'Anna' }))
    const p = await s.connect(anna)
    const store = new DocumentStore(s.storage)
    const small = await uploadFile(p, anna, plaintext(400_000))
    expect(await rejection(uploadFile(p, anna, plaintext(700_000)))).toBe('quota-exceeded')
    expect(await blobNames(store, anna.docId)).toEqual([
      `file.${small.blobId}.${small.storedBytes}`,
    ])
    expect(s.relay.metrics.files.get('quota-refused')).toBe(1)
    // What is under the quota still fits.
    await uploadFile(p, anna, plaintext(300_000))
    expect(await blobNames(store, anna.docId)).toHaveLength(2)
    await store.deleteDocument(anna.docId)
    expect(await blobNames(store, anna.docId)).toEqual([])
    expect(WIRE_VERSION).toBe(2)
  }, 30_000)
})
