import { domainHashAsync, u64Bytes, utf8 } from './bytes.js'
import type { MembershipEntry } from './membership-entry.js'
import { verifyDomainAsync } from './signature.js'

/**
 * Signature verdicts of one membership entry, computed ahead of the chain rules: the rules
 * (`MembershipState`) use them instead of verifying again, in chain order.
 */
export interface Verdicts {
  /** Whether the entry's own signature verifies under its `signer`. */
  readonly signature: boolean
  /**
   * A join's admission signature, checked under the key its admission was expected to have.
   * The rules use the verdict only if that key is the admission's key when the join is
   * checked; otherwise they verify again, so a wrong expectation costs time, never a verdict.
   */
  readonly admission?: { readonly key: Uint8Array; readonly ok: boolean }
  /** The entry's chain hash (`entryHash` of its bytes), computed alongside the signatures. */
  readonly hash: Uint8Array
}

/**
 * Start the signature checks of `bytes`, decoded as `e`, of document `docId` (native WebCrypto
 * Ed25519 where the platform has it, see `verifyDomainAsync`): its own signature and, for a
 * join, its admission signature under `admissionKey` (skipped when `undefined`); and its chain
 * hash. Never rejects for a bad signature: a verdict is `false`.
 */
export async function verdictsOf(
  docId: string,
  bytes: Uint8Array,
  e: MembershipEntry,
  admissionKey: Uint8Array | undefined,
): Promise<Verdicts> {
  const doc = utf8(docId)
  const b = e.body
  // Same bytes as `entryHash(docId, bytes)` (membership-state.ts), hashed natively.
  const hash = domainHashAsync('membership-entry', doc, bytes)
  const [signature, admission] = await Promise.all([
    verifyDomainAsync('membership', e.signer, e.signature, doc, e.signed),
    admissionKey !== undefined && b.kind === 'join'
      ? verifyDomainAsync(
          'admission',
          admissionKey,
          b.admissionSignature,
          doc,
          u64Bytes(b.admission),
          e.signer,
        )
      : undefined,
  ])
  return admissionKey === undefined || admission === undefined
    ? { signature, hash: await hash }
    : { signature, admission: { key: admissionKey, ok: admission }, hash: await hash }
}
