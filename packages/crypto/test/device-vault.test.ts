import 'fake-indexeddb/auto'
import { IndexedDBStorageAdapter } from '@valv/storage-indexeddb'
import { describe, expect, it } from 'vitest'
import { localStoreKey, secretsOf } from '../src/identity.js'
import { CryptoError, DeviceVault, DocumentSession, Identity } from '../src/index.js'
import { dumpIndexedDB, leaks } from './idb-dump.js'

const fast = { params: { N: 2 ** 10 } }
const PASS = 'korrekt häst batteri'
let n = 0
const profile = () => new IndexedDBStorageAdapter({ dbName: `vault-test-${++n}` })

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    expect(err).toBeInstanceOf(CryptoError)
    return (err as CryptoError).code
  }
  throw new Error('did not throw')
}

describe('DeviceVault', () => {
  it('keeps an identity and records across restarts, only under the passphrase', async () => {
    const store = profile()
    expect(await DeviceVault.exists(store)).toBe(false)
    const vault = await DeviceVault.create(store, PASS, fast)
    const me = await vault.saveIdentity(await Identity.create({ displayName: 'Åsa' }))
    await vault.put('drive', new TextEncoder().encode('Budget 2027'))
    vault.lock()
    expect(vault.locked).toBe(true)
    expect(await code(vault.get('drive'))).toBe('invalid-state')

    expect(await DeviceVault.exists(store)).toBe(true)
    expect(await code(DeviceVault.unlock(store, 'fel lösenord'))).toBe('bad-passphrase')
    const again = await DeviceVault.unlock(store, PASS)
    const back = await again.identity()
    expect(back?.userId).toBe(me.userId)
    expect(secretsOf(back as Identity)).toEqual(secretsOf(me))
    expect(new TextDecoder().decode(await again.get('drive'))).toBe('Budget 2027')
    expect(await again.get('missing')).toBeUndefined()
    expect(await code(DeviceVault.unlock(profile(), PASS))).toBe('invalid-state')
  })

  it('refuses empty and short passphrases with a typed error, for the vault and for export', async () => {
    for (const weak of ['', 'hemligt', '       ']) {
      expect(await code(DeviceVault.create(profile(), weak, fast))).toBe('weak-passphrase')
    }
    const me = await Identity.create()
    expect(await code(me.export(''))).toBe('weak-passphrase')
    expect(await code(me.export('1234567', { N: 2 ** 10 }))).toBe('weak-passphrase')
    const vault = await DeviceVault.create(profile(), PASS, fast)
    expect(await code(vault.changePassphrase(PASS, 'kort'))).toBe('weak-passphrase')
  })

  it('changes the passphrase without touching records; the old one stops working', async () => {
    const store = profile()
    const vault = await DeviceVault.create(store, PASS, fast)
    await vault.put('drive', new Uint8Array([1, 2, 3]))
    expect(await code(vault.changePassphrase('fel lösenord', 'ny lösenfras 2027'))).toBe(
      'bad-passphrase',
    )
    await vault.changePassphrase(PASS, 'ny lösenfras 2027', { N: 2 ** 10 })
    expect(await code(DeviceVault.unlock(store, PASS))).toBe('bad-passphrase')
    const again = await DeviceVault.unlock(store, 'ny lösenfras 2027')
    expect([...((await again.get('drive')) ?? [])]).toEqual([1, 2, 3])
  })

  it('unlocks with a registered platform secret (e.g. WebAuthn PRF) as well as the passphrase', async () => {
    const store = profile()
    const vault = await DeviceVault.create(store, PASS, fast)
    await vault.put('drive', new Uint8Array([7]))
    expect(await code(DeviceVault.unlockWithPlatformKey(store, new Uint8Array(32)))).toBe(
      'invalid-state',
    )
    const prf = new Uint8Array(32).fill(9)
    await vault.addPlatformKey(prf)
    const viaPlatform = await DeviceVault.unlockWithPlatformKey(store, prf)
    expect([...((await viaPlatform.get('drive')) ?? [])]).toEqual([7])
    expect(await code(DeviceVault.unlockWithPlatformKey(store, new Uint8Array(32).fill(8)))).toBe(
      'bad-passphrase',
    )
    expect(await code(DeviceVault.unlockWithPlatformKey(store, new Uint8Array(16)))).toBe(
      'bad-passphrase',
    )
    expect([...((await (await DeviceVault.unlock(store, PASS)).get('drive')) ?? [])]).toEqual([7])
  })

  it('refuses a record swapped to another name or changed on disk', async () => {
    const store = profile()
    const vault = await DeviceVault.create(store, PASS, fast)
    await vault.put('a', new Uint8Array([1]))
    const raw = (await store.get(['valv-vault', 'record', 'a'])) as Uint8Array
    await store.put(['valv-vault', 'record', 'b'], raw)
    expect(await code(vault.get('b'))).toBe('decrypt-failed')
    raw[raw.length - 1] = (raw[raw.length - 1] as number) ^ 1
    await store.put(['valv-vault', 'record', 'a'], raw)
    expect(await code(vault.get('a'))).toBe('decrypt-failed')
    expect(await code(vault.put('../x', new Uint8Array()))).toBe('malformed')
  })

  it('leaves no secret key bytes and no record plaintext in the raw IndexedDB files', async () => {
    const store = profile()
    const vault = await DeviceVault.create(store, PASS, fast)
    const me = await vault.saveIdentity(await Identity.create({ displayName: 'Åsa' }))
    await vault.put('drive', new TextEncoder().encode('Hemlig titel: omorganisation'))
    // A document whose keys sit in the same store (the key store), sealed under the identity.
    const doc = await DocumentSession.create(me, { keyStore: store })
    expect(doc.role).toBeGreaterThan(0)
    const dump = await dumpIndexedDB(indexedDB)
    // The dump does see what the adapter stored (a control for the checks below).
    expect(leaks(dump, (await store.get(['valv-vault', 'key'])) as Uint8Array)).toBe(true)
    const s = secretsOf(me)
    for (const secret of [s.userSecret, s.deviceSecret, s.kemSecret, localStoreKey(me)]) {
      expect(leaks(dump, secret)).toBe(false)
    }
    expect(leaks(dump, new TextEncoder().encode('Hemlig titel'))).toBe(false)
    expect(leaks(dump, new TextEncoder().encode(PASS))).toBe(false)
    // The same profile, copied, opens only with the passphrase.
    expect(await code(DeviceVault.unlock(store, 'gissning 123'))).toBe('bad-passphrase')
  })
})
