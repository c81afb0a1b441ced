import { domainMessage } from './bytes.js'
import { ed25519Verify } from './ed25519-fast.js'
import { ed25519VerifyStrict } from './ed25519-rule.js'

/**
 * Verify an Ed25519 signature over `domainMessage(domain, ...parts)` under Valv's one acceptance
 * rule ({@link ed25519VerifyStrict}: canonical encodings, `S < L`, no small-order `A` or `R`,
 * cofactorless equation), so signatures are not malleable. Never throws: malformed keys or
 * signatures simply do not verify.
 */
export function verifyDomain(
  domain: string,
  publicKey: Uint8Array,
  signature: Uint8Array,
  ...parts: Uint8Array[]
): boolean {
  return ed25519VerifyStrict(signature, domainMessage(domain, ...parts), publicKey)
}

/** {@link verifyDomain} using native WebCrypto Ed25519 when available (much faster); same verdicts. */
export async function verifyDomainAsync(
  domain: string,
  publicKey: Uint8Array,
  signature: Uint8Array,
  ...parts: Uint8Array[]
): Promise<boolean> {
  return ed25519Verify(signature, domainMessage(domain, ...parts), publicKey)
}
