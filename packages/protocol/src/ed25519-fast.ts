import { ed25519 } from '@noble/curves/ed25519.js'

/**
 * Ed25519 through WebCrypto where the platform has it (Node 20+, current Chromium, Firefox and
 * Safari), falling back to @noble/curves. Native verification is about 7× faster than pure JS
 * (docs/protocol.md, bench/envelope.bench.ts), and signature checks dominate the per-message
 * cost. Both paths implement RFC 8032 verification; the fallback is used only when WebCrypto
 * lacks Ed25519.
 */
const subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle
let native: Promise<boolean> | undefined

async function hasNative(): Promise<boolean> {
  native ??= (async () => {
    if (subtle === undefined) return false
    try {
      const probe = ed25519.getPublicKey(new Uint8Array(32).fill(1))
      await subtle.importKey('raw', probe as Uint8Array<ArrayBuffer>, { name: 'Ed25519' }, false, [
        'verify',
      ])
      return true
    } catch {
      return false
    }
  })()
  return native
}

const keys = new Map<string, Promise<CryptoKey>>()
const MAX_KEYS = 4096

function publicKey(raw: Uint8Array): Promise<CryptoKey> {
  let id = ''
  for (const b of raw) id += String.fromCharCode(b)
  let key = keys.get(id)
  if (key === undefined) {
    key = (subtle as SubtleCrypto).importKey(
      'raw',
      raw.slice() as Uint8Array<ArrayBuffer>,
      { name: 'Ed25519' },
      false,
      ['verify'],
    )
    if (keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value as string)
    keys.set(id, key)
  }
  return key
}

/** Verify an Ed25519 signature; never throws (malformed input does not verify). */
export async function ed25519Verify(
  signature: Uint8Array,
  message: Uint8Array,
  publicKeyBytes: Uint8Array,
): Promise<boolean> {
  if (signature.length !== 64 || publicKeyBytes.length !== 32) return false
  try {
    if (await hasNative()) {
      return await (subtle as SubtleCrypto).verify(
        'Ed25519',
        await publicKey(publicKeyBytes),
        signature.slice() as Uint8Array<ArrayBuffer>,
        message as Uint8Array<ArrayBuffer>,
      )
    }
    return ed25519.verify(signature, message, publicKeyBytes, { zip215: false })
  } catch {
    return false
  }
}

const PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
])

/**
 * A signer for one Ed25519 secret key: native WebCrypto when available (the key is imported
 * once, non-extractable), otherwise @noble/curves. Signatures are identical either way
 * (Ed25519 is deterministic).
 */
export function ed25519Signer(secret: Uint8Array): (message: Uint8Array) => Promise<Uint8Array> {
  let key: Promise<CryptoKey | undefined> | undefined
  return async (message) => {
    key ??= hasNative().then((yes) => {
      if (!yes) return undefined
      const pkcs8 = new Uint8Array(48)
      pkcs8.set(PKCS8_PREFIX)
      pkcs8.set(secret, 16)
      return (subtle as SubtleCrypto).importKey('pkcs8', pkcs8, { name: 'Ed25519' }, false, [
        'sign',
      ])
    })
    const k = await key
    if (k === undefined) return ed25519.sign(message, secret)
    return new Uint8Array(
      await (subtle as SubtleCrypto).sign('Ed25519', k, message as Uint8Array<ArrayBuffer>),
    )
  }
}
