import { ed25519 } from '@noble/curves/ed25519.js'
import {
  domainMessage,
  type EntryBody,
  encodeEntryFields,
  type MembershipState,
  utf8,
} from '@valv/protocol'
import { encodeParts, type Part } from './payload.js'

/** Seconds since the epoch: the `at` a signer claims. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/**
 * Build and sign the next entry of `state`'s chain with `signingSecret`. `parts` gets the index
 * the entry will have, since payload parts bind it in their associated data, and the `at` it
 * will be signed with, since what a rotation wraps depends on it (see `admissionUsable`).
 */
export function buildEntry(
  state: MembershipState,
  signingSecret: Uint8Array,
  body: EntryBody,
  parts: (index: number, at: number) => Part[],
): Uint8Array {
  const index = state.length
  const at = nowSeconds()
  const signed = encodeEntryFields({
    index,
    prev: state.head,
    at,
    signer: ed25519.getPublicKey(signingSecret),
    body,
    payload: encodeParts(parts(index, at)),
  })
  const signature = ed25519.sign(
    domainMessage('membership', utf8(state.docId), signed),
    signingSecret,
  )
  const out = new Uint8Array(signed.length + 64)
  out.set(signed)
  out.set(signature, signed.length)
  return out
}
