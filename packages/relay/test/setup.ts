import type { StorageAdapter } from '@valv/storage'
import { afterEach } from 'vitest'
import type { LogRecord } from '../src/logger.js'
import { Relay, type RelayOptions } from '../src/relay.js'
import { TestClient } from './client.js'
import { TestMemoryStorage } from './memory-storage.js'
import { type Member, member, Role, signMember, signUpdate, testVerifier } from './signed.js'

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

/** Start a relay on an ephemeral loopback port. */
export async function startRelay(
  options: Partial<RelayOptions> & { storage?: StorageAdapter } = {},
): Promise<Harness> {
  const logs: LogRecord[] = []
  const storage = options.storage ?? new TestMemoryStorage()
  const relay = new Relay({
    verifier: testVerifier,
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

/** A document's cast: admin (genesis), an editor, a viewer. */
export interface Cast {
  readonly admin: Member
  readonly editor: Member
  readonly viewer: Member
}

/** Write the membership chain of `docId` through `c`: admin genesis, editor, viewer. */
export async function setupMembers(c: TestClient, docId: string): Promise<Cast> {
  const cast = { admin: member(), editor: member(), viewer: member() }
  const entries = [
    signMember(cast.admin, docId, 0, cast.admin.pub, Role.Admin),
    signMember(cast.admin, docId, 1, cast.editor.pub, Role.Editor),
    signMember(cast.admin, docId, 2, cast.viewer.pub, Role.Viewer),
  ]
  for (const [index, entry] of entries.entries()) {
    c.send({ type: 'membership-append', docId, ref: 1000 + index, index, entry })
    await c.next((f) => f.type === 'ack' && f.ref === 1000 + index)
  }
  return cast
}

let ref = 1
/** Send a signed update and wait for its ack (returns the seq) or error (returns the code). */
export async function write(
  c: TestClient,
  m: Member,
  docId: string,
  counter: number,
  payload: Uint8Array = new Uint8Array([counter & 255]),
): Promise<number | string> {
  const r = ref++
  c.send({ type: 'envelope', docId, ref: r, envelope: signUpdate(m, docId, counter, payload) })
  const f = await c.next((x) => (x.type === 'ack' || x.type === 'error') && x.ref === r)
  return f.type === 'ack' ? f.seq : f.type === 'error' ? f.code : 'unexpected'
}
