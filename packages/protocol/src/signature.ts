import { ed25519 } from '@noble/curves/ed25519.js'
import { domainMessage } from './bytes.js'
import { ed25519Verify } from './ed25519-fast.js'

/**
 * Verify an Ed25519 signature over `domainMessage(domain, ...parts)`. Never throws: malformed
 * keys or signatures simply do not verify. Ed25519 verification is ZIP-215-free strict mode as
 * implemented by @noble/curves (`zip215: false`), so signatures are not malleable.
 */
export function verifyDomain(
  domain: string,
  publicKey: Uint8Array,
  signature: Uint8Array,
  ...parts: Uint8Array[]
): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  try {
    return ed25519.verify(signature, domainMessage(domain, ...parts), publicKey, { zip215: false })
  } catch {
    return false
  }
}

/** {@link verifyDomain} using native WebCrypto Ed25519 when available (much faster). */
export async function verifyDomainAsync(
  domain: string,
  publicKey: Uint8Array,
  signature: Uint8Array,
  ...parts: Uint8Array[]
): Promise<boolean> {
  return ed25519Verify(signature, domainMessage(domain, ...parts), publicKey)
}
