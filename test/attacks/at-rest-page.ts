/**
 * Runs in Chromium for `at-rest.test.ts`: the portal's own at-rest code (its keychain on the
 * SDK's DeviceVault, its drive list) plus a document whose keys sit in the key store, and a
 * raw dump of everything the profile keeps in IndexedDB and localStorage.
 */
import { DocumentSession, Identity } from '@valv/crypto'
import { IndexedDBStorageAdapter } from '@valv/storage-indexeddb'
import { listDrive, saveDriveEntry } from '../../examples/agency-portal/src/drive-store.js'
import {
  hasVault,
  rememberIdentity,
  unlockIdentity,
} from '../../examples/agency-portal/src/keychain.js'
import { localStoreKey, secretsOf } from '../../packages/crypto/src/identity.js'

const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b))

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((ok, fail) => {
    r.onsuccess = () => ok(r.result)
    r.onerror = () => fail(r.error)
  })
}

/** Every byte string and string in a structured-clone value. */
function flatten(v: unknown, out: string[]): void {
  if (v instanceof Uint8Array) out.push(b64(v))
  else if (v instanceof ArrayBuffer) out.push(b64(new Uint8Array(v)))
  else if (ArrayBuffer.isView(v))
    out.push(b64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)))
  else if (typeof v === 'string') out.push(b64(new TextEncoder().encode(v)))
  else if (Array.isArray(v)) for (const x of v) flatten(x, out)
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) flatten(x, out)
}

const api = {
  /** Create an identity as the portal does, a document, a drive entry; return the secrets. */
  async setup(passphrase: string, title: string, canary: string, legacy: boolean) {
    const me = await Identity.create({ displayName: 'Åsa' })
    if (legacy) {
      // An older portal left the drive list in plaintext localStorage; it moves into the vault.
      localStorage.setItem(
        `valv.portal.drive.${me.userId}`,
        JSON.stringify([{ docId: 'old', title: `${title} (gammal)`, kind: 'text', folder: '' }]),
      )
    }
    await rememberIdentity(me, passphrase)
    const store = new IndexedDBStorageAdapter({ dbName: `valv-${me.userId.slice(0, 16)}` })
    const doc = await DocumentSession.create(me, { keyStore: store })
    await saveDriveEntry({ docId: doc.docId, title, kind: 'text', folder: '' })
    // A control: bytes stored unencrypted on purpose must be found by the scans.
    await store.put(
      ['control'],
      Uint8Array.from(atob(canary), (c) => c.charCodeAt(0)),
    )
    const s = secretsOf(me)
    const content = (
      doc as unknown as { chain: { ring: { epochs: Map<number, { content: Uint8Array }> } } }
    ).chain.ring.epochs.get(0)?.content as Uint8Array
    return {
      userId: me.userId,
      secrets: [s.userSecret, s.deviceSecret, s.kemSecret, localStoreKey(me), content].map(b64),
      titles: listDrive().map((e) => e.title),
    }
  },

  /** Every IndexedDB key and value and every localStorage key and value, base64. */
  async dump(): Promise<string[]> {
    const out: string[] = []
    for (const { name } of await indexedDB.databases()) {
      if (name === undefined) continue
      const db = await req(indexedDB.open(name))
      for (const storeName of Array.from(db.objectStoreNames)) {
        const store = db.transaction(storeName, 'readonly').objectStore(storeName)
        flatten(await req(store.getAllKeys()), out)
        flatten(await req(store.getAll()), out)
      }
      db.close()
    }
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i) as string
      flatten([key, localStorage.getItem(key)], out)
    }
    return out
  },

  /** Unlock as the portal's unlock view does: the user id, or the error's code. */
  async unlock(passphrase: string): Promise<string> {
    if (!(await hasVault())) return 'no-vault'
    try {
      return (await unlockIdentity(passphrase))?.userId ?? 'empty'
    } catch (err) {
      return `${(err as Error).name}:${(err as { code?: string }).code}`
    }
  },
}

export type AtRestApi = typeof api
;(globalThis as unknown as { atRest: AtRestApi }).atRest = api
