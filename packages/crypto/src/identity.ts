import { ed25519 } from '@noble/curves/ed25519.js'
import {
  CryptoError,
  domainMessage,
  equalBytes,
  fromBase64Url,
  toBase64Url,
  toHex,
  utf8,
} from '@valv/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import {
  type DeviceCert,
  deviceCertParts,
  PublicCard,
  readDeviceCert,
  verifyDeviceCert,
  writeDeviceCert,
} from './card.js'
import { generateKemKeyPair, KEM_SECRET_KEY_LENGTH } from './primitives/hybrid-box.js'
import { hkdf32 } from './primitives/kdf.js'
import {
  type PassphraseParams,
  unwrapWithPassphrase,
  wrapWithPassphrase,
} from './primitives/passphrase.js'

/** Secret material of an identity; reachable only inside this package. */
export interface IdentitySecrets {
  readonly userSecret: Uint8Array
  readonly deviceSecret: Uint8Array
  readonly kemSecret: Uint8Array
}

const secrets = new WeakMap<Identity, IdentitySecrets>()

/** The secrets of `id` (package-internal: never exported from the package entry point). */
export function secretsOf(id: Identity): IdentitySecrets {
  return secrets.get(id) as IdentitySecrets
}

/** Options for {@link Identity.create}. */
export interface CreateIdentityOptions {
  /** Name other members see (it travels only inside encrypted membership data). */
  readonly displayName?: string
}

const EXPORT_PREFIX = 'valv-identity1.'
const now = () => Math.floor(Date.now() / 1000)

function certify(userSecret: Uint8Array, deviceSecret: Uint8Array, kemKey: Uint8Array): DeviceCert {
  const body = { deviceKey: ed25519.getPublicKey(deviceSecret), kemKey, createdAt: now() }
  const signature = ed25519.sign(domainMessage('device-cert', ...deviceCertParts(body)), userSecret)
  return { ...body, signature }
}

// Set by Identity's static block: package-internal access to its private constructor and fields.
let serialise: (id: Identity) => Uint8Array
let restore: (plain: Uint8Array) => Identity

/**
 * A person on one device: a user key (the stable identity, which certifies devices) and this
 * device's signing and key-agreement keys. Applications never see raw keys: they create,
 * export with a passphrase, import, and hand out {@link Identity.card}.
 *
 * @example
 * ```ts
 * const me = await Identity.create({ displayName: 'Anna Berg' })
 * const backup = await me.export('correct horse battery staple')
 * const again = await Identity.import(backup, 'correct horse battery staple')
 * ```
 */
export class Identity {
  private constructor(
    /** The user's Ed25519 public key. */
    readonly userKey: Uint8Array,
    /** Name other members see. */
    readonly displayName: string,
    /** This device's certificate. */
    readonly device: DeviceCert,
    /** Other devices of the same user this device knows (for the card). */
    private otherDevices: readonly DeviceCert[],
    s: IdentitySecrets,
  ) {
    secrets.set(this, s)
  }

  /** Create a new user with its first device. */
  static async create(options: CreateIdentityOptions = {}): Promise<Identity> {
    const userSecret = ed25519.utils.randomSecretKey()
    const deviceSecret = ed25519.utils.randomSecretKey()
    const kem = generateKemKeyPair()
    const device = certify(userSecret, deviceSecret, kem.publicKey)
    return new Identity(ed25519.getPublicKey(userSecret), options.displayName ?? '', device, [], {
      userSecret,
      deviceSecret,
      kemSecret: kem.secretKey,
    })
  }

  /** Hex of the user key: the id used by `unshare` and shown in member lists. */
  get userId(): string {
    return toHex(this.userKey)
  }

  /** Hex of this device's key. */
  get deviceId(): string {
    return toHex(this.device.deviceKey)
  }

  /** The public card to give to people who will share documents with this user. */
  get card(): PublicCard {
    return new PublicCard(this.userKey, this.displayName, [this.device, ...this.otherDevices])
  }

  /**
   * Certify a new device for the same user (for example a phone). Returns that device's
   * identity; move it there with {@link Identity.export}. This identity's card lists it too.
   */
  async addDevice(): Promise<Identity> {
    const s = secretsOf(this)
    const deviceSecret = ed25519.utils.randomSecretKey()
    const kem = generateKemKeyPair()
    const device = certify(s.userSecret, deviceSecret, kem.publicKey)
    const others = [this.device, ...this.otherDevices]
    this.otherDevices = [...this.otherDevices, device]
    return new Identity(this.userKey, this.displayName, device, others, {
      userSecret: s.userSecret,
      deviceSecret,
      kemSecret: kem.secretKey,
    })
  }

  /**
   * Drop a lost device from this identity's card, so future shares no longer include it. Its
   * document memberships are removed with `DocumentSession.removeDevice` (which rotates keys).
   */
  revokeDevice(deviceId: string): void {
    this.otherDevices = this.otherDevices.filter((d) => toHex(d.deviceKey) !== deviceId)
  }

  /**
   * Export every secret, encrypted under `passphrase` with scrypt (N = 2^17, r = 8, p = 1 by
   * default) and XChaCha20-Poly1305. The string is safe to store anywhere; its strength is the
   * passphrase's. Throws `weak-passphrase` for a passphrase of fewer than
   * `MIN_PASSPHRASE_LENGTH` (8) characters.
   */
  async export(passphrase: string, params?: PassphraseParams): Promise<string> {
    const wrapped = await wrapWithPassphrase(identityBytes(this), passphrase, params)
    return EXPORT_PREFIX + toBase64Url(wrapped)
  }

  /** Import an {@link Identity.export} string. Throws `bad-passphrase` or `malformed`. */
  static async import(text: string, passphrase: string): Promise<Identity> {
    const wrapped = text.startsWith(EXPORT_PREFIX)
      ? fromBase64Url(text.slice(EXPORT_PREFIX.length))
      : undefined
    if (wrapped === undefined) throw new CryptoError('malformed', 'not a Valv identity export')
    return identityFromBytes(await unwrapWithPassphrase(wrapped, passphrase))
  }

  static {
    // Package-internal access to the private constructor and fields, for the device vault.
    serialise = (id) => {
      const s = secretsOf(id)
      const enc = encoding.createEncoder()
      encoding.writeUint8Array(enc, s.userSecret)
      encoding.writeUint8Array(enc, s.deviceSecret)
      encoding.writeVarUint8Array(enc, s.kemSecret)
      encoding.writeVarString(enc, id.displayName)
      writeDeviceCert(enc, id.device)
      encoding.writeVarUint(enc, id.otherDevices.length)
      for (const d of id.otherDevices) writeDeviceCert(enc, d)
      return encoding.toUint8Array(enc)
    }
    restore = (plain) => {
      try {
        const dec = decoding.createDecoder(plain)
        const userSecret = decoding.readUint8Array(dec, 32).slice()
        const deviceSecret = decoding.readUint8Array(dec, 32).slice()
        const kemSecret = decoding.readVarUint8Array(dec).slice()
        const name = decoding.readVarString(dec)
        const device = readDeviceCert(dec)
        const n = decoding.readVarUint(dec)
        const others: DeviceCert[] = []
        for (let i = 0; i < n; i++) others.push(readDeviceCert(dec))
        if (decoding.hasContent(dec)) throw new Error('trailing bytes')
        if (kemSecret.length !== KEM_SECRET_KEY_LENGTH) throw new Error('bad KEM secret')
        const userKey = ed25519.getPublicKey(userSecret)
        if (!equalBytes(device.deviceKey, ed25519.getPublicKey(deviceSecret))) {
          throw new Error('device key mismatch')
        }
        // The card is built from these certificates; peers would refuse one that does not verify.
        if (![device, ...others].every((d) => verifyDeviceCert(userKey, d))) {
          throw new Error('device certificate does not verify')
        }
        return new Identity(userKey, name, device, others, { userSecret, deviceSecret, kemSecret })
      } catch (cause) {
        throw new CryptoError('malformed', 'identity export does not decode', { cause })
      }
    }
  }
}

/** Every secret of `id`, serialised (package-internal: the plaintext inside an export). */
export function identityBytes(id: Identity): Uint8Array {
  return serialise(id)
}

/** Inverse of {@link identityBytes}. Throws `malformed`. */
export function identityFromBytes(plain: Uint8Array): Identity {
  return restore(plain)
}

/**
 * This device's per-document signing key: derived, so nothing extra is stored, and different
 * for every document, so the relay cannot link one person's documents by key.
 */
export function documentSigningSecret(id: Identity, docId: string): Uint8Array {
  return hkdf32(secretsOf(id).deviceSecret, utf8(docId), 'valv/v1/document-key')
}

/** Key that encrypts this device's local copies of document keys (see `KeyStore`). */
export function localStoreKey(id: Identity): Uint8Array {
  return hkdf32(secretsOf(id).deviceSecret, utf8('local'), 'valv/v1/local-store')
}
