/**
 * The production stack for benchmarks: the real relay with `@valv/protocol` verification and
 * memory storage, and providers whose `DocumentCrypto` is a real `@valv/crypto` session.
 */

import { type ConnectOptions, newProvider } from '@valv/test-utils/stack'
import { DocumentSession, Identity, Role } from '../packages/crypto/src/index.js'
import type {
  WebsocketProvider,
  WebsocketProviderOptions,
} from '../packages/provider-websocket/src/index.js'
import { defaultVerifier, Relay } from '../packages/relay/src/index.js'
import type { StorageAdapter } from '../packages/storage/src/index.js'
import { MemoryStorageAdapter } from '../packages/storage-memory/src/index.js'

type Extra = Partial<Pick<WebsocketProviderOptions, 'compactAfter' | 'WebSocketPolyfill'>> & {
  batch?: { windowMs?: number }
  /**
   * The device's local storage: the provider's offline queue, state cache and checkpoint, and
   * the session's key store (its verified chain and keys). Pass the same one again to reopen
   * the document warm, as a browser does from IndexedDB.
   */
  storage?: StorageAdapter
}

/** A relay and a document shared with `members` editors; `connect(i)` opens member i. */
export async function realRoom(members: number) {
  const relay = new Relay({ storage: new MemoryStorageAdapter(), verifier: defaultVerifier() })
  const { port } = await relay.listen(0, '127.0.0.1')
  const url = `ws://127.0.0.1:${port}`
  const providers: WebsocketProvider[] = []
  const provider = (session: DocumentSession, extra: Extra = {}) => {
    const p = newProvider(url, session, extra as ConnectOptions)
    providers.push(p)
    return p
  }
  const admin = await DocumentSession.create(await Identity.create({ displayName: 'admin' }))
  await admin.attach(provider(admin))
  const people: Identity[] = []
  for (let i = 0; i < members; i++) {
    const id = await Identity.create({ displayName: `member ${i}` })
    await admin.share(id.card, Role.Editor)
    people.push(id)
  }
  return {
    relay,
    url,
    async connect(i: number, extra: Extra = {}): Promise<WebsocketProvider> {
      const keyStore = extra.storage === undefined ? {} : { keyStore: extra.storage }
      const session = await DocumentSession.open(people[i] as Identity, admin.docId, keyStore)
      const p = provider(session, extra)
      await session.attach(p)
      await session.joined()
      return p
    },
    async close() {
      for (const p of providers) await p.destroy()
      await relay.close()
    },
  }
}
