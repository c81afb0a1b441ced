import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { scryptAsync } from '@noble/hashes/scrypt.js'
import { CryptoError, utf8 } from '@valv/protocol'
import { randomBytes } from './bytes.js'

/** scrypt cost parameters (RFC 7914). */
export interface PassphraseParams {
  /** CPU/memory cost, a power of two from 2^10 to 2^20 (default 2^17: 128 MiB with r = 8). */
  readonly N?: number
  /** Block size, 1..16 (default 8). */
  readonly r?: number
  /** Parallelism, 1..4 (default 1). */
  readonly p?: number
}

/** The default scrypt parameters: N = 2^17, r = 8, p = 1 (128 MiB, OWASP's scrypt minimum). */
export const DEFAULT_PASSPHRASE_PARAMS = { N: 2 ** 17, r: 8, p: 1 } as const

/**
 * The fewest characters (Unicode code points after NFKC) a new passphrase may have. Eight is a
 * floor against accidents (an empty or one-word field), not a strength meter: scrypt makes each
 * guess cost 128 MiB and about a second, so eight random characters resist offline guessing, but
 * a short dictionary word does not. Applications should ask for a longer passphrase.
 */
export const MIN_PASSPHRASE_LENGTH = 8

/** Refuse a passphrase too short to protect anything (`weak-passphrase`). */
export function checkPassphrase(passphrase: string): void {
  if (
    typeof passphrase !== 'string' ||
    [...passphrase.normalize('NFKC')].length < MIN_PASSPHRASE_LENGTH
  ) {
    throw new CryptoError(
      'weak-passphrase',
      `a passphrase needs at least ${MIN_PASSPHRASE_LENGTH} characters`,
    )
  }
}

const VERSION = 1
const HEADER = 4 + 16
const NONCE = 24
const MIN_LOG_N = 10
const MAX_LOG_N = 20
// The memory a reader agrees to spend (128·r·N bytes): 1 GiB, the noble default ceiling.
const MAX_MEM = 2 ** 30

function checkParams(logN: number, r: number, p: number): void {
  const ok =
    Number.isInteger(logN) &&
    logN >= MIN_LOG_N &&
    logN <= MAX_LOG_N &&
    Number.isInteger(r) &&
    r >= 1 &&
    r <= 16 &&
    Number.isInteger(p) &&
    p >= 1 &&
    p <= 4 &&
    128 * r * 2 ** logN <= MAX_MEM
  if (!ok) throw new CryptoError('malformed', 'scrypt parameters out of the accepted range')
}

function derive(passphrase: string, header: Uint8Array): Promise<Uint8Array> {
  const [, logN = 0, r = 0, p = 0] = header
  return scryptAsync(utf8(passphrase.normalize('NFKC')), header.subarray(4, HEADER), {
    N: 2 ** logN,
    r,
    p,
    dkLen: 32,
    maxmem: MAX_MEM + 2 ** 16,
  })
}

/**
 * Encrypt `secret` under a passphrase: scrypt (memory-hard) derives a 256-bit key from the NFKC
 * form of the passphrase (so the same typed text on any keyboard or OS gives the same bytes) and
 * a random 16-byte salt; XChaCha20-Poly1305 encrypts with the 20-byte header as associated data,
 * so nobody can lower the cost parameters or swap the salt unnoticed.
 * Layout: `version(1)=1 | log2 N(1) | r(1) | p(1) | salt(16) | nonce(24) | ciphertext | tag(16)`.
 * Throws `weak-passphrase` for fewer than {@link MIN_PASSPHRASE_LENGTH} characters, `malformed`
 * for parameters outside `PassphraseParams`' ranges. Unwrapping never checks length, so old
 * wraps still open.
 *
 * @example
 * ```ts
 * const secret = crypto.getRandomValues(new Uint8Array(32))
 * const wrapped = await wrapWithPassphrase(secret, 'correct horse battery staple')
 * await unwrapWithPassphrase(wrapped, 'correct horse battery staple') // secret
 * ```
 */
export async function wrapWithPassphrase(
  secret: Uint8Array,
  passphrase: string,
  params: PassphraseParams = {},
): Promise<Uint8Array> {
  checkPassphrase(passphrase)
  return wrapWithPassphraseFixed(secret, passphrase, params, randomBytes(16), randomBytes(NONCE))
}

/**
 * `wrapWithPassphrase` with a caller-chosen 16-byte salt and 24-byte nonce. For test
 * vectors only: a reused salt lets one precomputation attack several wrapped secrets.
 */
export async function wrapWithPassphraseFixed(
  secret: Uint8Array,
  passphrase: string,
  params: PassphraseParams,
  salt: Uint8Array,
  nonce: Uint8Array,
): Promise<Uint8Array> {
  const logN = Math.log2(params.N ?? DEFAULT_PASSPHRASE_PARAMS.N)
  const r = params.r ?? DEFAULT_PASSPHRASE_PARAMS.r
  const p = params.p ?? DEFAULT_PASSPHRASE_PARAMS.p
  checkParams(logN, r, p)
  if (salt.length !== 16 || nonce.length !== NONCE) {
    throw new CryptoError('malformed', 'salt is 16 bytes and nonce 24 bytes')
  }
  const out = new Uint8Array(HEADER + NONCE + secret.length + 16)
  out.set([VERSION, logN, r, p])
  out.set(salt, 4)
  out.set(nonce, HEADER)
  const header = out.subarray(0, HEADER)
  const key = await derive(passphrase, header)
  const sealed = xchacha20poly1305(key, nonce, header).encrypt(secret)
  out.set(sealed, HEADER + NONCE)
  key.fill(0)
  return out
}

/**
 * Decrypt `wrapWithPassphrase` output. Throws `malformed` for a wrong version, short input
 * or parameters outside the accepted range (N below 2^10 is refused, so a tampered header cannot
 * make a guess cheap; above 1 GiB is refused, so it cannot exhaust memory), and `bad-passphrase`
 * when the passphrase is wrong or the bytes were changed (the two are indistinguishable).
 */
export async function unwrapWithPassphrase(
  wrapped: Uint8Array,
  passphrase: string,
): Promise<Uint8Array> {
  const [version, logN = 0, r = 0, p = 0] = wrapped
  if (version !== VERSION || wrapped.length < HEADER + NONCE + 16) {
    throw new CryptoError('malformed', 'not a passphrase-wrapped secret')
  }
  checkParams(logN, r, p)
  const header = wrapped.subarray(0, HEADER)
  const key = await derive(passphrase, header)
  try {
    return xchacha20poly1305(key, wrapped.subarray(HEADER, HEADER + NONCE), header).decrypt(
      wrapped.subarray(HEADER + NONCE),
    )
  } catch {
    throw new CryptoError('bad-passphrase', 'the passphrase does not open this secret')
  } finally {
    key.fill(0)
  }
}
