import { ed25519 } from '@noble/curves/ed25519.js'
import { ed25519Encodings, ed25519VerifyStrict } from './ed25519-rule.js'

/**
 * Ed25519 through WebCrypto where the platform has it (Node 20+, current Chromium, Firefox and
 * Safari), else @noble/curves. Native verification is about 7× faster than pure JS and signature
 * checks dominate the per-message cost. Both paths apply the same rule (`ed25519-rule.ts`): the
 * encoding checks run here in JavaScript before WebCrypto sees the bytes, and WebCrypto computes
 * only the cofactorless equation. A platform whose WebCrypto answers the probe below differently
 * from the rule is not used at all.
 */
const subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle
let native: Promise<boolean> | undefined

function hex(h: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(h.match(/../g) ?? [], (b) => Number.parseInt(b, 16))
}

/**
 * Two C2SP CCTV vectors (numbers 305 and 267) under one key: a plain valid signature, and one
 * whose R carries an order-8 component that only the cofactored equation accepts.
 */
const PROBE_KEY = hex('ef75b20e7540e3dff77404193652ba2bd13df99c1508eee1515e27ae25f28076')
const PROBE_VALID = {
  msg: 'ed25519vectors 5',
  sig: hex(
    'b62cf890de42c413b11b1411c9f01f1c4d77aa87ef182258d1251f69af2a3506' +
      '40657f1cb030f12543549bbabd848dc6403d354e7c99c4d0dcee9f63c9033b00',
  ),
}
const PROBE_TORSION = {
  msg: 'ed25519vectors 3',
  sig: hex(
    '36684ea91032ba5b1dbab2d02f4debc74c3327f2b3802e2e4d371aa42b12b56b' +
      '2d471882773a677af1e3824e757a33f8ddf7bbeaf3d28a09595eb8daa0d74a03',
  ),
}

async function hasNative(): Promise<boolean> {
  native ??= (async () => {
    if (subtle === undefined) return false
    try {
      const key = await subtle.importKey('raw', PROBE_KEY, { name: 'Ed25519' }, false, ['verify'])
      const text = new TextEncoder()
      const valid = await subtle.verify(
        'Ed25519',
        key,
        PROBE_VALID.sig,
        text.encode(PROBE_VALID.msg),
      )
      const torsion = await subtle.verify(
        'Ed25519',
        key,
        PROBE_TORSION.sig,
        text.encode(PROBE_TORSION.msg),
      )
      return valid && !torsion
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

/**
 * Verify an Ed25519 signature under Valv's acceptance rule, natively where possible; never
 * throws (malformed input does not verify). Same verdict as {@link ed25519VerifyStrict} on every
 * input.
 */
export async function ed25519Verify(
  signature: Uint8Array,
  message: Uint8Array,
  publicKeyBytes: Uint8Array,
): Promise<boolean> {
  if (!ed25519Encodings(signature, publicKeyBytes)) return false
  try {
    if (await hasNative()) {
      return await (subtle as SubtleCrypto).verify(
        'Ed25519',
        await publicKey(publicKeyBytes),
        signature.slice() as Uint8Array<ArrayBuffer>,
        message as Uint8Array<ArrayBuffer>,
      )
    }
    return ed25519VerifyStrict(signature, message, publicKeyBytes)
  } catch {
    return false
  }
}

/** Whether {@link ed25519Verify} uses WebCrypto on this platform (diagnostics and tests). */
export function ed25519Native(): Promise<boolean> {
  return hasNative()
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
