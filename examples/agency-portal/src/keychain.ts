import { Identity } from '@valv/crypto'

// The identity stays on this device between visits without asking for the passphrase: it is
// exported under a random passphrase, which is itself encrypted with a non-extractable
// WebCrypto key held in IndexedDB (script can use it, but never read it out).
const DB = 'valv-portal-device'
const STORE = 'kv'
const RECORD = 'identity'
// The random passphrase carries 256 bits, so a slow KDF adds nothing here.
const LOCAL_KDF = { N: 2 ** 10 }

interface DeviceRecord {
  readonly key: CryptoKey
  readonly iv: Uint8Array<ArrayBuffer>
  readonly wrapped: ArrayBuffer
  readonly exported: string
}

function db(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1)
    req.onupgradeneeded = () => req.result.createObjectStore(STORE)
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

async function tx<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const d = await db()
  return new Promise((resolve, reject) => {
    const req = fn(d.transaction(STORE, mode).objectStore(STORE))
    req.onsuccess = () => resolve(req.result as T)
    req.onerror = () => reject(req.error)
  })
}

/** Keep `me` on this device. */
export async function rememberIdentity(me: Identity): Promise<void> {
  const pass = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ])
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const wrapped = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv },
    key,
    new TextEncoder().encode(pass),
  )
  const exported = await me.export(pass, LOCAL_KDF)
  const record: DeviceRecord = { key, iv, wrapped, exported }
  await tx('readwrite', (s) => s.put(record, RECORD))
}

/** The identity kept on this device, if any. */
export async function loadIdentity(): Promise<Identity | undefined> {
  const record = await tx<DeviceRecord | undefined>('readonly', (s) => s.get(RECORD))
  if (!record) return undefined
  const pass = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: record.iv },
    record.key,
    record.wrapped,
  )
  return Identity.import(record.exported, new TextDecoder().decode(pass))
}
