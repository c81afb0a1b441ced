import { type EnvelopeVerifier, type LogRecord, Relay, RelayError } from '@valv/relay'
import type { StorageAdapter, StorageKey } from '@valv/storage'
import { MemoryStorageAdapter } from '@valv/storage-memory'
import { decodeFrame, encodeFrame, type Frame } from '@valv/wire'
import { WebSocket, WebSocketServer } from 'ws'
import * as Y from 'yjs'
import {
  checkConfirmation,
  checkEntry,
  hex,
  type Identity,
  identity,
  peek,
  Role,
  rolesOf,
  TestRoom,
  verifySealed,
} from '../../core/test/test-crypto.js'
import { WebsocketProvider, type WebsocketProviderOptions } from '../src/index.js'

/** Relay-side public verification of the test envelope format (no keys, no decryption). */
export const verifier: EnvelopeVerifier = {
  async verifyUpdate(ctx, env) {
    return checkSealed(ctx.docId, ctx.membership, env, 'update')
  },
  async verifyMembershipEntry(ctx, entry) {
    try {
      await checkEntry(ctx.docId, ctx.membership, entry)
    } catch (e) {
      throw new RelayError('membership-invalid', (e as Error).message)
    }
  },
  async verifySnapshot(ctx, snap) {
    const { author } = await checkSealed(ctx.docId, ctx.membership, snap, 'snapshot')
    const p = peek(snap)
    if (p.position === undefined) throw new RelayError('malformed', 'no position')
    const roles = rolesOf(ctx.membership)
    const soleWriter = ![...roles].some(([who, role]) => who !== author && role >= Role.Editor)
    return { author, ...p.position, soleWriter }
  },
  async verifyConfirmation(ctx, bytes, snap) {
    let author: string
    try {
      author = await checkConfirmation(ctx.docId, bytes, snap)
    } catch (e) {
      throw new RelayError('bad-signature', (e as Error).message)
    }
    if ((rolesOf(ctx.membership).get(author) ?? Role.Removed) < Role.Editor) {
      throw new RelayError('forbidden', 'not a writer')
    }
    return { author }
  },
  async verifyPresence(ctx, payload) {
    return checkSealed(ctx.docId, ctx.membership, payload, 'presence')
  },
  peekUpdate(env) {
    const p = peek(env)
    return { author: hex(p.pub), counter: p.counter }
  },
}

async function checkSealed(
  docId: string,
  chain: readonly Uint8Array[],
  env: Uint8Array,
  kind: 'update' | 'snapshot' | 'presence',
) {
  let p: ReturnType<typeof peek>
  try {
    p = peek(env)
  } catch (e) {
    throw new RelayError('malformed', (e as Error).message)
  }
  if (p.kind !== kind) throw new RelayError('malformed', 'wrong kind')
  if (!(await verifySealed(docId, env))) throw new RelayError('bad-signature', 'bad signature')
  const needed = kind === 'presence' ? Role.Viewer : Role.Editor
  if ((rolesOf(chain).get(hex(p.pub)) ?? Role.Removed) < needed) {
    throw new RelayError('forbidden', 'not a writer')
  }
  return { author: hex(p.pub), counter: p.counter }
}

const cleanups: (() => Promise<void> | void)[] = []
/** Run registered cleanups (call from afterEach). */
export async function cleanup(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c()
}

export interface RelayHarness {
  readonly relay: Relay
  readonly url: string
  readonly storage: MemoryStorageAdapter
  readonly logs: LogRecord[]
}

/** The real `@valv/relay` on an ephemeral loopback port with memory storage. */
export async function startRelay(): Promise<RelayHarness> {
  const storage = new MemoryStorageAdapter()
  const logs: LogRecord[] = []
  const relay = new Relay({ storage, verifier, logger: (r) => logs.push(r) })
  const { port } = await relay.listen(0, '127.0.0.1')
  cleanups.push(() => relay.close())
  return { relay, url: `ws://127.0.0.1:${port}`, storage, logs }
}

/** A document with an admin, editors and a viewer, and a way to make providers for them. */
export async function startRoom(url: string, docId: string, editors = 1) {
  const room = await TestRoom.create(docId)
  const admin = await identity()
  const eds: Identity[] = []
  for (let i = 0; i < editors; i++) eds.push(await identity())
  const viewer = await identity()
  const connect = async (
    id: Identity,
    extra: Partial<WebsocketProviderOptions> & { storage?: StorageAdapter; doc?: Y.Doc } = {},
  ) => {
    const { storage, doc, ...rest } = extra
    const p = new WebsocketProvider({
      url,
      doc: doc ?? new Y.Doc(),
      docId,
      document: await room.crypto(id, false),
      WebSocketPolyfill: WebSocket as never,
      batch: { windowMs: 5 },
      backoff: { minMs: 20, maxMs: 200 },
      ...(storage ? { storage } : {}),
      ...rest,
    } as WebsocketProviderOptions)
    cleanups.push(() => p.destroy())
    return p
  }
  // The admin writes the chain through the relay (compare-and-append).
  const a = await connect(admin)
  await a.whenSynced()
  const chain = [await room.add(admin, admin, Role.Admin)]
  for (const e of eds) chain.push(await room.add(admin, e, Role.Editor))
  chain.push(await room.add(admin, viewer, Role.Viewer))
  for (const [i, e] of chain.entries()) await a.appendMembership(i, e)
  return { room, admin, editors: eds, viewer, adminProvider: a, connect }
}

/** Wait until `cond()` holds. */
export async function until(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** Every stored value and blob below the adapter's root, with its key. */
export async function dump(storage: StorageAdapter): Promise<[StorageKey, Uint8Array][]> {
  const out: [StorageKey, Uint8Array][] = []
  const walk = async (prefix: string[]) => {
    for await (const child of storage.listChildren(prefix)) {
      const key = [...prefix, child]
      const v = await storage.get(key)
      if (v) out.push([key, v])
      const stream = await storage.getStream(key)
      if (stream) for await (const chunk of stream) out.push([key, chunk])
      await walk(key)
    }
  }
  await walk([])
  return out
}

/** Filter of a tampering proxy: return the frames to pass on (none = drop). */
export type Tamper = (f: Frame, toClient: boolean) => Frame[]

/**
 * A hostile relay for tests: a WebSocket server that sits between clients and the real relay
 * and may drop, repeat or rewrite frames per connection (`tamper(connIndex)`).
 */
export async function startProxy(upstream: string, tamper: (conn: number) => Tamper) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise((r) => wss.once('listening', r))
  let conns = 0
  wss.on('connection', (client) => {
    const t = tamper(conns++)
    const up = new WebSocket(upstream)
    const early: Buffer[] = []
    const pass = (to: WebSocket, bytes: Uint8Array, toClient: boolean) => {
      for (const f of t(decodeFrame(bytes), toClient)) {
        if (to.readyState === WebSocket.OPEN) to.send(encodeFrame(f))
      }
    }
    up.on('open', () => {
      for (const b of early.splice(0)) pass(up, b, false)
    })
    client.on('message', (b: Buffer) => {
      if (up.readyState === WebSocket.OPEN) pass(up, b, false)
      else early.push(b)
    })
    up.on('message', (b: Buffer) => pass(client, b, true))
    up.on('close', () => client.close())
    client.on('close', () => up.close())
  })
  const { port } = wss.address() as { port: number }
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate()
        wss.close(() => r())
      }),
  )
  return `ws://127.0.0.1:${port}`
}
