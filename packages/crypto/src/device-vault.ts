import { CryptoError, domainMessage, utf8 } from '@valv/protocol'
import { type Identity, identityBytes, identityFromBytes } from './identity.js'
import type { KeyStore } from './key-store.js'
import { aeadOpen, aeadSeal, Suite } from './primitives/aead.js'
import { randomBytes } from './primitives/bytes.js'
import { hkdf32 } from './primitives/kdf.js'
import {
  checkPassphrase,
  type PassphraseParams,
  unwrapWithPassphrase,
  wrapWithPassphrase,
} from './primitives/passphrase.js'

const HEADER = ['valv-vault', 'key']
const PLATFORM = ['valv-vault', 'platform']
const record = (name: string) => ['valv-vault', 'record', name]
const IDENTITY = 'identity'
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/

/** Options of {@link DeviceVault.create}. */
export interface DeviceVaultOptions {
  /** scrypt cost (default N = 2^17, r = 8, p = 1: 128 MiB and about a second per unlock). */
  readonly params?: PassphraseParams
}

/**
 * Secrets at rest on a device. A random 256-bit vault key encrypts every record
 * (XChaCha20-Poly1305, the record's name bound in); the vault key itself is stored only wrapped
 * under the user's passphrase (scrypt, `wrapWithPassphrase`). So a copy of the browser profile
 * or the disk, without the passphrase, yields no identity key, and therefore none of the document
 * keys in the key store (those are sealed under a key derived from the identity). Records are
 * for anything else the relay may not read either, such as the list of document titles.
 *
 * What it does not protect: once unlocked, the page holds the vault key and the identity in
 * memory, so script running in the page, a debugger or a memory dump gets everything; and a
 * weak passphrase falls to offline guessing at scrypt's cost per guess. It relies on no
 * "non-extractable" WebCrypto key: those are stored in the profile's files in the clear.
 *
 * Works over any {@link KeyStore} (an `IndexedDBStorageAdapter` in browsers).
 *
 * @example
 * ```ts
 * import { DeviceVault, DocumentSession, Identity } from '@valv/crypto'
 * import { IndexedDBStorageAdapter } from '@valv/storage-indexeddb'
 *
 * const store = new IndexedDBStorageAdapter({ dbName: 'valv-device' })
 * const passphrase = 'the user types this'
 * const vault = (await DeviceVault.exists(store))
 *   ? await DeviceVault.unlock(store, passphrase)
 *   : await DeviceVault.create(store, passphrase)
 * const me = (await vault.identity()) ?? (await vault.saveIdentity(await Identity.create()))
 * await DocumentSession.create(me, { keyStore: store })
 * ```
 */
export class DeviceVault {
  private constructor(
    private readonly store: KeyStore,
    private key: Uint8Array | undefined,
  ) {}

  /** Whether `store` holds a vault (created earlier on this device). */
  static async exists(store: KeyStore): Promise<boolean> {
    return (await store.get(HEADER)) !== undefined
  }

  /**
   * Make a new, empty vault in `store` under `passphrase`, replacing any vault there (whose
   * records then no longer open). Throws `weak-passphrase` below 8 characters.
   */
  static async create(
    store: KeyStore,
    passphrase: string,
    options: DeviceVaultOptions = {},
  ): Promise<DeviceVault> {
    checkPassphrase(passphrase)
    const key = randomBytes(32)
    await store.put(HEADER, await wrapWithPassphrase(key, passphrase, options.params))
    return new DeviceVault(store, key)
  }

  /**
   * Open the vault in `store`. Throws `bad-passphrase` for a wrong passphrase (or a changed
   * header), `invalid-state` if there is no vault.
   */
  static async unlock(store: KeyStore, passphrase: string): Promise<DeviceVault> {
    const header = await store.get(HEADER)
    if (header === undefined) throw new CryptoError('invalid-state', 'no vault on this device')
    return new DeviceVault(store, await unwrapWithPassphrase(header, passphrase))
  }

  /**
   * Open the vault with a platform secret registered by {@link addPlatformKey} (for example a
   * WebAuthn PRF output, which the authenticator releases only after user verification). Throws
   * `bad-passphrase` for a wrong secret, `invalid-state` if none was registered.
   */
  static async unlockWithPlatformKey(store: KeyStore, secret: Uint8Array): Promise<DeviceVault> {
    const wrapped = await store.get(PLATFORM)
    if (wrapped === undefined) throw new CryptoError('invalid-state', 'no platform key registered')
    try {
      return new DeviceVault(
        store,
        aeadOpen(Suite.XChaCha20Poly1305, platformKey(secret), wrapped, PLATFORM_AAD),
      )
    } catch (cause) {
      throw new CryptoError('bad-passphrase', 'the platform key does not open the vault', { cause })
    }
  }

  /**
   * Also let `secret` (at least 32 bytes from a platform authenticator, e.g. a WebAuthn PRF
   * output; never stored) unlock this vault, replacing an earlier one. The passphrase keeps
   * working. The secret must come from outside the profile, or it protects nothing.
   */
  async addPlatformKey(secret: Uint8Array): Promise<void> {
    const wrapped = aeadSeal(
      Suite.XChaCha20Poly1305,
      platformKey(secret),
      this.requireKey(),
      PLATFORM_AAD,
    )
    await this.store.put(PLATFORM, wrapped)
  }

  /** Whether {@link lock} was called. */
  get locked(): boolean {
    return this.key === undefined
  }

  /** Forget the vault key (zeroed); every further call throws `invalid-state`. */
  lock(): void {
    this.key?.fill(0)
    this.key = undefined
  }

  /**
   * Re-wrap the vault key under a new passphrase (records stay as they are). Throws
   * `bad-passphrase` if `current` is wrong, `weak-passphrase` if `next` is too short.
   */
  async changePassphrase(current: string, next: string, params?: PassphraseParams): Promise<void> {
    checkPassphrase(next)
    const header = await this.store.get(HEADER)
    if (header === undefined) throw new CryptoError('invalid-state', 'no vault on this device')
    await unwrapWithPassphrase(header, current)
    await this.store.put(HEADER, await wrapWithPassphrase(this.requireKey(), next, params))
  }

  /** Keep `me` (every secret of it) in the vault; resolves with `me`. */
  async saveIdentity(me: Identity): Promise<Identity> {
    await this.put(IDENTITY, identityBytes(me))
    return me
  }

  /** The identity kept in the vault, if any. */
  async identity(): Promise<Identity | undefined> {
    const bytes = await this.get(IDENTITY)
    return bytes === undefined ? undefined : identityFromBytes(bytes)
  }

  /**
   * Store `value` encrypted as record `name` (lowercase letters, digits, `.`, `_`, `-`; at most
   * 64). The name is visible on disk, the value is not.
   */
  async put(name: string, value: Uint8Array): Promise<void> {
    const sealed = aeadSeal(Suite.XChaCha20Poly1305, this.requireKey(), value, aad(name))
    await this.store.put(record(checkName(name)), sealed)
  }

  /**
   * Record `name`, decrypted, or `undefined` if absent. Throws `decrypt-failed` if it was
   * changed or moved from another name or vault.
   */
  async get(name: string): Promise<Uint8Array | undefined> {
    const key = this.requireKey()
    const stored = await this.store.get(record(checkName(name)))
    if (stored === undefined) return undefined
    return aeadOpen(Suite.XChaCha20Poly1305, key, stored, aad(name))
  }

  private requireKey(): Uint8Array {
    if (this.key === undefined) throw new CryptoError('invalid-state', 'the vault is locked')
    return this.key
  }
}

const PLATFORM_AAD = domainMessage('vault-platform')

function platformKey(secret: Uint8Array): Uint8Array {
  if (secret.length < 32)
    throw new CryptoError('invalid-key', 'a platform secret is 32 bytes or more')
  return hkdf32(secret, new Uint8Array(0), 'valv/v1/vault-platform')
}

function checkName(name: string): string {
  if (!NAME.test(name)) throw new CryptoError('malformed', 'invalid vault record name')
  return name
}

function aad(name: string): Uint8Array {
  return domainMessage('vault-record', utf8(name))
}
