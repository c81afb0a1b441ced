import { DeviceVault, type Identity } from '@valv/crypto'
import { IndexedDBStorageAdapter } from '@valv/storage-indexeddb'
import { openDrive } from './drive-store.js'

// The identity, and the drive list, stay on this device only inside the SDK's DeviceVault:
// wrapped under a key derived from the user's passphrase (scrypt), so a copied browser profile
// without the passphrase yields no key. Each visit asks for the passphrase once.
const store = new IndexedDBStorageAdapter({ dbName: 'valv-portal-vault' })
// An older portal kept the identity under a random passphrase whose "non-extractable" WebCrypto
// key sat in this database: anyone with the profile could read it. It is deleted on sight.
const LEGACY_DB = 'valv-portal-device'

let vault: DeviceVault | undefined

/** Whether this device holds a vault (then the user unlocks instead of creating). */
export async function hasVault(): Promise<boolean> {
  indexedDB.deleteDatabase(LEGACY_DB)
  return DeviceVault.exists(store)
}

/** Keep `me` on this device under `passphrase` (replacing any vault here). */
export async function rememberIdentity(me: Identity, passphrase: string): Promise<void> {
  vault = await DeviceVault.create(store, passphrase)
  await vault.saveIdentity(me)
  await openDrive(vault, me.userId)
}

/** Unlock the vault; throws `CryptoError` `bad-passphrase` for a wrong passphrase. */
export async function unlockIdentity(passphrase: string): Promise<Identity | undefined> {
  const v = await DeviceVault.unlock(store, passphrase)
  const me = await v.identity()
  if (me === undefined) return undefined
  vault = v
  await openDrive(v, me.userId)
  return me
}
