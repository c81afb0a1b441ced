import type { DocumentSession } from '@valv/crypto'
import { Role } from '@valv/crypto'
import type { StorageAdapter } from '@valv/storage'
import { type SharedDocument, sharedDocument } from '@valv/test-utils'
import { TestClient, TestMemoryStorage } from '@valv/test-utils/relay'
import { afterEach } from 'vitest'
import type { LogRecord } from '../src/logger.js'
import { defaultVerifier } from '../src/protocol-verifier.js'
import { Relay, type RelayOptions } from '../src/relay.js'

const running = new Set<Relay>()
const clients = new Set<TestClient>()

afterEach(async () => {
  for (const c of clients) c.ws.terminate()
  clients.clear()
  await Promise.all([...running].map((r) => r.close()))
  running.clear()
})

export interface Harness {
  readonly relay: Relay
  readonly url: string
  readonly storage: StorageAdapter
  readonly logs: LogRecord[]
  client(docs?: string[], token?: string): Promise<TestClient>
}

/** Start a relay with `defaultVerifier()` on an ephemeral loopback port. */
export async function startRelay(
  options: Partial<RelayOptions> & { storage?: StorageAdapter } = {},
): Promise<Harness> {
  const logs: LogRecord[] = []
  const storage = options.storage ?? new TestMemoryStorage()
  const relay = new Relay({
    verifier: defaultVerifier(),
    logger: (r) => logs.push(r),
    ...options,
    storage,
  })
  running.add(relay)
  const { port } = await relay.listen(0, '127.0.0.1')
  const url = `ws://127.0.0.1:${port}`
  return {
    relay,
    url,
    storage,
    logs,
    async client(docs = [], token = 't') {
      const c = await TestClient.ready(url, docs, token)
      clients.add(c)
      return c
    },
  }
}

/** Register a raw client for teardown. */
export function track(c: TestClient): TestClient {
  clients.add(c)
  return c
}

/** A document's cast on real sessions: admin (genesis), an editor, a viewer. */
export interface Cast {
  readonly docId: string
  readonly admin: DocumentSession
  readonly editor: DocumentSession
  readonly viewer: DocumentSession
  /** The sessions' document: its `chain()` and `identities`. */
  readonly shared: SharedDocument
}

/** A new document with an admin, an editor and a viewer (not on any relay yet). */
export async function newCast(): Promise<Cast> {
  const shared = await sharedDocument([Role.Editor, Role.Viewer])
  const [editor, viewer] = shared.members as [DocumentSession, DocumentSession]
  return { docId: shared.docId, admin: shared.admin, editor, viewer, shared }
}

let ref = 1

/**
 * Append the cast's membership chain from entry `from` on through `c` (subscribed to the
 * document), waiting for each ack; returns the number of entries the relay now holds.
 */
export async function appendChain(c: TestClient, cast: Cast, from = 0): Promise<number> {
  const chain = cast.shared.chain()
  for (let index = from; index < chain.length; index++) {
    const r = ref++
    const entry = chain[index] as Uint8Array
    c.send({ type: 'membership-append', docId: cast.docId, ref: r, index, entry })
    await c.next((f) => f.type === 'ack' && f.ref === r)
  }
  return chain.length
}

/** A new cast whose chain `c` (subscribed to nothing yet) subscribes to and appends. */
export async function setupMembers(c: TestClient): Promise<Cast> {
  const cast = await newCast()
  await c.subscribe(cast.docId)
  await appendChain(c, cast)
  return cast
}

/** Send an envelope and wait for its ack (returns the seq) or error (returns the code). */
export async function send(
  c: TestClient,
  docId: string,
  envelope: Uint8Array,
): Promise<number | string> {
  const r = ref++
  c.send({ type: 'envelope', docId, ref: r, envelope })
  const f = await c.next((x) => (x.type === 'ack' || x.type === 'error') && x.ref === r)
  return f.type === 'ack' ? f.seq : f.type === 'error' ? f.code : 'unexpected'
}

/** Seal `payload` as `m`'s update `counter` and send it (see {@link send}). */
export async function write(
  c: TestClient,
  m: DocumentSession,
  counter: number,
  payload: Uint8Array = new Uint8Array([counter & 255]),
): Promise<number | string> {
  return send(c, m.docId, await m.seal('update', payload, counter))
}
