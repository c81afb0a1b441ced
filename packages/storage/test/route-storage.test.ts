import { MemoryBackend, MemoryStorageAdapter } from '@valv/storage-memory'
import { describe, expect, it } from 'vitest'
import { runStorageAdapterTests } from '../src/conformance.js'
import { DocumentStore, routeStorage, type StorageAdapter } from '../src/index.js'

/** Every name and byte two memory backends hold, and nodes that hold nothing. */
function scan(...backends: MemoryBackend[]) {
  const items: Uint8Array[] = []
  const emptyContainers: string[] = []
  const walk = (node: MemoryBackend['root'], path: string) => {
    items.push(new TextEncoder().encode(path))
    if (node.value) items.push(node.value)
    for (const part of node.blob ?? []) items.push(part)
    if (path && !node.value && !node.blob && node.children.size === 0) emptyContainers.push(path)
    for (const [name, child] of node.children) walk(child, `${path}/${name}`)
  }
  for (const b of backends) walk(b.root, '')
  return { items, emptyContainers }
}

for (const snapshots of [true, false]) {
  runStorageAdapterTests(`routeStorage (memory + memory, snapshots: ${snapshots})`, async () => {
    const main = new MemoryBackend()
    const blobs = new MemoryBackend()
    const open = () =>
      routeStorage({
        default: new MemoryStorageAdapter(main),
        blobs: new MemoryStorageAdapter(blobs),
        snapshots,
      })
    const adapter = open()
    return {
      adapter,
      teardown: () => adapter.close(),
      reopen: async () => open(),
      holdsDataInMemory: true,
      scanRaw: async () => scan(main, blobs),
    }
  })
}

async function* once(bytes: Uint8Array) {
  yield bytes
}

describe('routeStorage', () => {
  it('keeps blobs and snapshots in `blobs`, log and membership in `default`, erases both', async () => {
    const main = new MemoryStorageAdapter()
    const blobs = new MemoryStorageAdapter()
    const store = new DocumentStore(routeStorage({ default: main, blobs }))
    expect(store.atomicAppend).toBe(true)
    await store.appendLog('d1', 1, new Uint8Array([1]))
    await store.appendLog('d1', 2, new Uint8Array([2]))
    await store.putSnapshot('d1', 1, new Uint8Array([9, 9]))
    await store.putBlob('d1', 'f1', once(new Uint8Array([7, 7, 7])))
    expect(await main.get(['docs', 'd1', 'snap', '0000000000000001'])).toBeUndefined()
    expect(await blobs.get(['docs', 'd1', 'snap', '0000000000000001'])).toEqual(
      new Uint8Array([9, 9]),
    )
    expect(await main.getStream(['docs', 'd1', 'blob', 'f1'])).toBeUndefined()
    expect(await blobs.getStream(['docs', 'd1', 'blob', 'f1'])).toBeDefined()
    expect(await blobs.get(['docs', 'd1', 'log', '0000000000000002'])).toBeUndefined()
    expect(await store.getSnapshot('d1')).toEqual({ seq: 1, bytes: new Uint8Array([9, 9]) })
    const docs: string[] = []
    for await (const id of store.listDocuments()) docs.push(id)
    expect(docs).toEqual(['d1'])
    await store.deleteDocument('d1')
    const left: string[] = []
    for await (const s of main.listChildren(['docs'])) left.push(s)
    for await (const s of blobs.listChildren(['docs'])) left.push(s)
    expect(left).toEqual([])
  })

  it('refuses create on a snapshot key routed to an adapter without create', async () => {
    // An adapter without create (like S3); only `create` is reached here.
    const routed = routeStorage({
      default: new MemoryStorageAdapter(),
      blobs: {} as StorageAdapter,
    })
    await expect(
      routed.create?.(['docs', 'd', 'snap', '0000000000000001'], new Uint8Array([1])),
    ).rejects.toMatchObject({ code: 'invalid-key' })
  })
})
