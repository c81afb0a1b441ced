import { DocumentSession, type Identity } from '@valv/crypto'
import { DocumentStore, type StorageAdapter } from '@valv/storage'
import { LocalRelay } from '@valv/test-utils'

/** Everything a document leaves on a backend used both as relay store and as device store. */
export async function populate(adapter: StorageAdapter, me: Identity) {
  const relay = new LocalRelay()
  const session = await DocumentSession.create(me, { keyStore: adapter })
  await relay.connect(session)
  await session.rotate()
  const docId = session.docId
  const store = new DocumentStore(adapter)
  const updates: Uint8Array[] = []
  for (let i = 1; i <= 4; i++) {
    const env = await session.seal('update', new TextEncoder().encode(`update ${i} åäö`), i)
    updates.push(env)
    await store.appendLog(docId, i, env)
  }
  const snapshot = await session.seal('snapshot', new Uint8Array(3000).fill(1), 0, {
    upToSeq: 2,
    prevSeq: 0,
    prev: new Uint8Array(32),
  })
  await store.putSnapshot(docId, 2, snapshot)
  const file = await session.seal('update', new Uint8Array(200_000).fill(2), 6)
  await store.putBlob(
    docId,
    'file1',
    (async function* () {
      yield file
    })(),
  )
  const chain = relay.chains.get(docId)?.entries ?? []
  for (const [i, entry] of chain.entries()) {
    // The relay keeps the chain as blobs of the document (packages/relay/src/doc-log.ts).
    await store.putBlob(
      docId,
      `member-${String(i).padStart(9, '0')}`,
      (async function* () {
        yield entry
      })(),
    )
  }
  // The provider's local cache on the device (packages/core/src/local-store.ts).
  await adapter.put(['valv', docId, 'state'], updates[3] as Uint8Array)
  const secrets = await adapter.get(['valv-keys', docId, 'secrets'])
  if (!secrets) throw new Error('the session stored no sealed keys')
  // What must be gone: a slice of every stored ciphertext, chain entry and key, and the id.
  const needles = [...updates.slice(2), snapshot, file, ...chain, secrets].map((b) =>
    b.subarray(b.length - 40, b.length - 8),
  )
  needles.push(new TextEncoder().encode(docId))
  return { session, docId, updates, needles, store }
}
