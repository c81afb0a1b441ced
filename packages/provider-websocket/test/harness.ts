/**
 * Provider tests on the shared real stack (`@valv/test-utils/stack`): a document of real
 * `DocumentSession`s on the real relay with `defaultVerifier()`, a storage dump and a tampering
 * proxy (a hostile relay).
 */
import { DocumentSession, type Identity, Role } from '@valv/crypto'
import type { StorageAdapter, StorageKey } from '@valv/storage'
import { sharedDocument } from '@valv/test-utils'
import { onCleanup, publishChain } from '@valv/test-utils/stack'
import { decodeFrame, encodeFrame, type Frame } from '@valv/wire'
import { WebSocket, WebSocketServer } from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider, type WebsocketProviderOptions } from '../src/index.js'

/** Options of a provider made by a room's `connect`. */
export type RoomConnectOptions = Partial<WebsocketProviderOptions> & {
  storage?: StorageAdapter
  doc?: Y.Doc
}

/**
 * A document with an admin, `editors` editors and a viewer (real identities, keys and chain),
 * put on the relay at `url`, and a way to make providers for them. The admin's provider is
 * connected and synced.
 */
export async function startRoom(url: string, editors = 1) {
  const shared = await sharedDocument([...Array(editors).fill(Role.Editor), Role.Viewer])
  const { docId, identities } = shared
  await publishChain(url, docId, shared.chain())
  /**
   * A provider for a new session of `id` that verified the chain before (a device that was
   * here before, as its key store would have it); returned before it synced.
   */
  const connect = async (id: Identity, extra: RoomConnectOptions = {}) => {
    const { storage, doc, ...rest } = extra
    const session = await DocumentSession.open(id, docId)
    for (const [index, entry] of shared.chain().entries())
      await session.applyMembership(index, entry)
    const p = new WebsocketProvider({
      url,
      doc: doc ?? new Y.Doc(),
      docId,
      document: session,
      WebSocketPolyfill: WebSocket as never,
      batch: { windowMs: 5 },
      backoff: { minMs: 20, maxMs: 200 },
      ...(storage ? { storage } : {}),
      ...rest,
    } as WebsocketProviderOptions)
    onCleanup(() => p.destroy())
    // The provider is the session's membership sink (it waits for the first sync itself).
    session.attach(p).catch(() => undefined)
    return p
  }
  const admin = identities[0] as Identity
  const adminProvider = await connect(admin)
  await adminProvider.whenSynced()
  return {
    docId,
    admin,
    editors: identities.slice(1, 1 + editors),
    viewer: identities[1 + editors] as Identity,
    adminProvider,
    connect,
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
  onCleanup(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate()
        wss.close(() => r())
      }),
  )
  return `ws://127.0.0.1:${port}`
}
