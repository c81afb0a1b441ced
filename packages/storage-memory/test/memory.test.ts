import { runStorageAdapterTests } from '@valv/storage/conformance'
import { describe, expect, it } from 'vitest'
import { MemoryBackend, MemoryStorageAdapter } from '../src/index.js'

runStorageAdapterTests('MemoryStorageAdapter', async () => {
  const backend = new MemoryBackend()
  const adapter = new MemoryStorageAdapter(backend)
  return {
    adapter,
    teardown: () => adapter.close(),
    reopen: async () => new MemoryStorageAdapter(backend),
    holdsDataInMemory: true,
    scanRaw: async () => scan(backend),
  }
})

/** Every name and byte the backend holds, and nodes that hold nothing. */
function scan(backend: MemoryBackend) {
  const items: Uint8Array[] = []
  const emptyContainers: string[] = []
  const walk = (node: MemoryBackend['root'], path: string) => {
    items.push(new TextEncoder().encode(path))
    if (node.value) items.push(node.value)
    for (const part of node.blob ?? []) items.push(part)
    if (path && !node.value && !node.blob && node.children.size === 0) emptyContainers.push(path)
    for (const [name, child] of node.children) walk(child, `${path}/${name}`)
  }
  walk(backend.root, '')
  return { items, emptyContainers }
}

describe('MemoryStorageAdapter.tryLock', () => {
  it('one holder per name among adapters on a backend; free on release or close', async () => {
    const backend = new MemoryBackend()
    const [a, b] = [new MemoryStorageAdapter(backend), new MemoryStorageAdapter(backend)]
    const key = ['docs', 'd', 'lock', 'files']
    const release = await a.tryLock(key)
    expect(release).toBeDefined()
    expect(await a.tryLock(key)).toBeUndefined()
    expect(await b.tryLock(key)).toBeUndefined()
    expect(await b.tryLock([...key.slice(0, -1), 'other'])).toBeDefined()
    await release!()
    expect(await b.tryLock(key)).toBeDefined()
    await b.close()
    expect(await a.tryLock(key)).toBeDefined()
  })
})
