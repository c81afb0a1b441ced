import { ed25519 } from '@noble/curves/ed25519.js'
import { CryptoError, ed25519Signer, toHex } from '@valv/protocol'
import { documentSigningSecret, type Identity } from './identity.js'

/**
 * This device's per-document signing key, held by its session: it signs the device's envelopes,
 * membership entries and grants. A recovery session has none. The secret stays here; only the
 * entry builders of this package get it (`requireSecret`), everyone else gets signatures.
 */
export class DocumentKey {
  #secret: Uint8Array | undefined
  #publicKey: Uint8Array | undefined
  #sign: ((message: Uint8Array) => Promise<Uint8Array>) | undefined

  /** A joiner's key: derived from the document id (a creator's is set later by {@link use}). */
  constructor(me: Identity | undefined, docId: string) {
    if (me !== undefined) this.use(documentSigningSecret(me, docId))
  }

  /** Switch to `secret` (the creator's key, derived from the genesis nonce). */
  use(secret: Uint8Array): void {
    this.#secret = secret
    this.#publicKey = ed25519.getPublicKey(secret)
    this.#sign = ed25519Signer(secret)
  }

  /** The Ed25519 public key, or `undefined` for a recovery session. */
  get publicKey(): Uint8Array | undefined {
    return this.#publicKey
  }

  /** Stable pseudonymous author id in this document: hex of the public key. */
  get author(): string {
    return this.#publicKey === undefined ? 'recovery' : toHex(this.#publicKey)
  }

  /** Whether there is a key at all (not a recovery session). */
  get present(): boolean {
    return this.#secret !== undefined
  }

  /** The secret, for building membership entries; `invalid-state` for a recovery session. */
  requireSecret(): Uint8Array {
    if (this.#secret === undefined)
      throw new CryptoError('invalid-state', 'a recovery session cannot sign')
    return this.#secret
  }

  /**
   * Sign `message` as it is (callers put it in its domain first) with the key current now;
   * `invalid-state` for a recovery session.
   */
  async sign(message: Uint8Array): Promise<Uint8Array> {
    const sign = this.#sign
    if (sign === undefined) throw new CryptoError('invalid-state', 'a recovery session cannot sign')
    return sign(message)
  }
}

/** The creator's per-document key: derived from the genesis nonce (the id does not exist yet). */
export function creatorSigningSecret(me: Identity, nonce: Uint8Array): Uint8Array {
  return documentSigningSecret(me, `genesis.${toHex(nonce)}`)
}
