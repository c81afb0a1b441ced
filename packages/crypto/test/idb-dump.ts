/** Every value in every object store of every IndexedDB database, raw, as byte strings. */
export async function dumpIndexedDB(factory: IDBFactory): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  const text = new TextEncoder()
  const walk = (v: unknown): void => {
    if (v instanceof Uint8Array) out.push(v)
    else if (v instanceof ArrayBuffer) out.push(new Uint8Array(v))
    else if (ArrayBuffer.isView(v)) out.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
    else if (typeof v === 'string') out.push(text.encode(v))
    else if (Array.isArray(v)) for (const x of v) walk(x)
    else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) walk(x)
  }
  for (const { name } of await factory.databases()) {
    if (name === undefined) continue
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = factory.open(name)
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
    for (const store of Array.from(db.objectStoreNames)) {
      const tx = db.transaction(store, 'readonly').objectStore(store)
      const [keys, values] = await Promise.all(
        [tx.getAllKeys(), tx.getAll()].map(
          (req) =>
            new Promise<unknown[]>((resolve, reject) => {
              req.onsuccess = () => resolve(req.result as unknown[])
              req.onerror = () => reject(req.error)
            }),
        ),
      )
      walk(keys)
      walk(values)
    }
    db.close()
  }
  return out
}

/** Whether `needle` occurs in any of `haystack` (raw, hex or base64/base64url). */
export function leaks(haystack: Uint8Array[], needle: Uint8Array): boolean {
  const forms = [
    Buffer.from(needle),
    Buffer.from(Buffer.from(needle).toString('hex')),
    Buffer.from(Buffer.from(needle).toString('base64').replace(/=+$/, '')),
    Buffer.from(Buffer.from(needle).toString('base64url')),
  ]
  return haystack.some((h) => forms.some((f) => Buffer.from(h).includes(f)))
}
