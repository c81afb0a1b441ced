import { CryptoError, fromBase64Url, toBase64Url } from '@valv/protocol'
import { generateKemKeyPair } from './primitives/hybrid-box.js'

const PREFIX = 'valv-recovery1.'
const PUBLIC_PREFIX = 'valv-recovery-public1.'

/**
 * An organisation's recovery key: a hybrid (X25519 + ML-KEM-768) key pair whose public half is
 * named when documents are created; every epoch key of those documents is then also sealed to
 * it, so the organisation can always open its own records (`DocumentSession.recover`). Keep
 * the secret offline (printed, or in an HSM-backed vault); hand the public half to the app.
 *
 * @example
 * ```ts
 * const recovery = RecoveryKey.generate()
 * const backup = recovery.export()             // store offline
 * const session = await DocumentSession.create(me, { recovery: recovery.publicKey })
 * ```
 */
export class RecoveryKey {
  private constructor(
    /** The public half, to configure in applications. */
    readonly publicKey: Uint8Array,
    /** @internal The secret half. */
    readonly secretKey: Uint8Array,
  ) {}

  /** Generate a new recovery key pair. */
  static generate(): RecoveryKey {
    const kp = generateKemKeyPair()
    return new RecoveryKey(kp.publicKey, kp.secretKey)
  }

  /** The public half as text (`valv-recovery-public1.…`), for configuration files. */
  get publicText(): string {
    return PUBLIC_PREFIX + toBase64Url(this.publicKey)
  }

  /** The whole key pair as text (`valv-recovery1.…`). Treat it like a master password. */
  export(): string {
    return `${PREFIX}${toBase64Url(this.secretKey)}.${toBase64Url(this.publicKey)}`
  }

  /** Parse an {@link RecoveryKey.export} string. Throws `malformed`. */
  static import(text: string): RecoveryKey {
    const [secret, pub] = text.startsWith(PREFIX) ? text.slice(PREFIX.length).split('.') : []
    const s = secret === undefined ? undefined : fromBase64Url(secret)
    const p = pub === undefined ? undefined : fromBase64Url(pub)
    if (s === undefined || p === undefined) throw new CryptoError('malformed', 'not a recovery key')
    return new RecoveryKey(p, s)
  }

  /** Parse a {@link RecoveryKey.publicText} string. Throws `malformed`. */
  static parsePublic(text: string): Uint8Array {
    const p = text.startsWith(PUBLIC_PREFIX)
      ? fromBase64Url(text.slice(PUBLIC_PREFIX.length))
      : undefined
    if (p === undefined) throw new CryptoError('malformed', 'not a recovery public key')
    return p
  }
}
