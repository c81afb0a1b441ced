import { ed25519 } from '@noble/curves/ed25519.js'
import { CryptoError, fromBase64Url, toBase64Url, utf8 } from '@valv/protocol'
import { hkdf32 } from './primitives/kdf.js'

/** The keys an admission secret derives: a signing key for joins and a wrap key for bundles. */
export interface AdmissionKeys {
  /** Ed25519 secret that signs join entries. */
  readonly signingSecret: Uint8Array
  /** Its public key, recorded in the admit entry. */
  readonly publicKey: Uint8Array
  /** Symmetric key that wraps epoch bundles for whoever holds the admission. */
  readonly wrapKey: Uint8Array
}

/** Derive an admission's keys from its 32-byte secret. */
export function admissionKeys(docId: string, secret: Uint8Array): AdmissionKeys {
  const signingSecret = hkdf32(secret, utf8(docId), 'valv/v1/admission/sign')
  return {
    signingSecret,
    publicKey: ed25519.getPublicKey(signingSecret),
    wrapKey: hkdf32(secret, utf8(docId), 'valv/v1/admission/wrap'),
  }
}

/** The contents of an invite link's fragment. */
export interface InviteCapability {
  /** The document. */
  readonly docId: string
  /** Chain index of the admit entry. */
  readonly admission: number
  /** The 32-byte admission secret. */
  readonly secret: Uint8Array
}

const PREFIX = 'valv-invite1'

/**
 * Encode an invite as a URL fragment (`#valv-invite1.<doc>.<index>.<secret>`). Browsers never
 * send the fragment to a server, so neither the web server nor the relay learns the secret.
 */
export function encodeInvite(c: InviteCapability): string {
  return `#${PREFIX}.${c.docId}.${c.admission}.${toBase64Url(c.secret)}`
}

/**
 * Parse an invite link (a whole URL or just its fragment). Throws `malformed`.
 *
 * @example
 * ```ts
 * const cap = parseInvite('https://portal.example/doc#valv-invite1.AbC….7.xyz…')
 * ```
 */
export function parseInvite(link: string): InviteCapability {
  const fragment = link.slice(link.indexOf('#') + 1)
  const [prefix, docId, index, secret, ...rest] = fragment.split('.')
  const bytes = secret === undefined ? undefined : fromBase64Url(secret)
  const admission = Number(index)
  if (
    prefix !== PREFIX ||
    rest.length > 0 ||
    docId === undefined ||
    !/^[A-Za-z0-9_-]{43}$/.test(docId) ||
    !Number.isSafeInteger(admission) ||
    admission < 1 ||
    bytes?.length !== 32
  ) {
    throw new CryptoError('malformed', 'not a Valv invite link')
  }
  return { docId, admission, secret: bytes }
}
