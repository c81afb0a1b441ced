import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { scryptAsync } from '@noble/hashes/scrypt.js'
import { CryptoError, utf8 } from '@valv/protocol'
import { randomBytes } from './bytes.js'

/** scrypt cost parameters. */
export interface PassphraseParams {
  /** CPU/memory cost, a power of two (default 2^17 = 128 MiB with r = 8). */
  readonly N?: number
  /** Block size (default 8). */
  readonly r?: number
  /** Parallelism (default 1). */
  readonly p?: number
}

const VERSION = 1
const MIN_LOG_N = 10

/**
 * Encrypt `secret` under a passphrase: scrypt (memory-hard) derives a key from the NFKC form
 * of the passphrase and a random 16-byte salt; XChaCha20-Poly1305 encrypts with the version,
 * parameters and salt as associated data, so they cannot be downgraded unnoticed.
 * Layout: `version(1) | log2 N(1) | r(1) | p(1) | salt(16) | nonce(24) | ciphertext | tag(16)`.
 */
export async function wrapWithPassphrase(
  secret: Uint8Array,
  passphrase: string,
  params: PassphraseParams = {},
): Promise<Uint8Array> {
  const logN = Math.log2(params.N ?? 2 ** 17)
  const r = params.r ?? 8
  const p = params.p ?? 1
  if (
    !Number.isInteger(logN) ||
    logN < MIN_LOG_N ||
    logN > 24 ||
    r < 1 ||
    r > 32 ||
    p < 1 ||
    p > 16
  ) {
    throw new CryptoError('malformed', 'unsupported scrypt parameters')
  }
  const header = new Uint8Array([VERSION, logN, r, p, ...randomBytes(16)])
  const key = await scryptAsync(utf8(passphrase.normalize('NFKC')), header.subarray(4), {
    N: 2 ** logN,
    r,
    p,
    dkLen: 32,
  })
  const nonce = randomBytes(24)
  const ct = xchacha20poly1305(key, nonce, header).encrypt(secret)
  return new Uint8Array([...header, ...nonce, ...ct])
}

/** Decrypt {@link wrapWithPassphrase} output. Throws `bad-passphrase` or `malformed`. */
export async function unwrapWithPassphrase(
  wrapped: Uint8Array,
  passphrase: string,
): Promise<Uint8Array> {
  const [version, logN = 0, r = 0, p = 0] = wrapped
  if (version !== VERSION || wrapped.length < 20 + 24 + 16)
    throw new CryptoError('malformed', 'not a passphrase-wrapped secret')
  if (logN < MIN_LOG_N || logN > 24 || r < 1 || r > 32 || p < 1 || p > 16) {
    throw new CryptoError('malformed', 'scrypt parameters out of the accepted range')
  }
  const header = wrapped.subarray(0, 20)
  const key = await scryptAsync(utf8(passphrase.normalize('NFKC')), header.subarray(4), {
    N: 2 ** logN,
    r,
    p,
    dkLen: 32,
  })
  try {
    return xchacha20poly1305(key, wrapped.subarray(20, 44), header).decrypt(wrapped.subarray(44))
  } catch {
    throw new CryptoError('bad-passphrase', 'the passphrase does not open this secret')
  }
}
