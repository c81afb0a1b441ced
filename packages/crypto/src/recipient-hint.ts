import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { domainMessage, u64Bytes, utf8 } from '@valv/protocol'

/** Bytes of a recipient hint in front of an invitee box (membership version 3). */
export const HINT_LENGTH = 16

/**
 * The secret a recipient hint is keyed with: X25519 between the entry signer's per-document
 * key and the recipient device's key, both Ed25519 keys taken to their Montgomery form. The
 * signer computes it from its per-document secret and the device key on the card; the
 * recipient from its device secret and the entry's public `signer`, so it needs no box opened.
 * Nobody else holds either secret, so to a relay or a stranger, even one holding the card, the
 * hint is 16 random bytes. `undefined` if a key is not a valid point (no hint matches then).
 */
export function hintKey(mySecret: Uint8Array, theirPublic: Uint8Array): Uint8Array | undefined {
  try {
    return x25519.getSharedSecret(
      ed25519.utils.toMontgomerySecret(mySecret),
      ed25519.utils.toMontgomery(theirPublic),
    )
  } catch {
    return undefined
  }
}

/**
 * The hint in front of the invitee box of part `tag` of entry `entryIndex`: the first 16 bytes
 * of HMAC-SHA256(key, domainMessage("recipient-hint", docId, u64(entryIndex), tag)). The entry
 * index makes hints for one device differ from entry to entry (no linking across admissions).
 */
export function recipientHint(
  key: Uint8Array,
  docId: string,
  entryIndex: number,
  tag: number,
): Uint8Array {
  const message = domainMessage(
    'recipient-hint',
    utf8(docId),
    u64Bytes(entryIndex),
    new Uint8Array([tag]),
  )
  return hmac(sha256, key, message).subarray(0, HINT_LENGTH)
}
