import { eraseLocalCache } from '@valv/core'
import { type ErasableKeyStore, eraseLocalKeys, Role } from '@valv/crypto'
import type { DocumentStore, StorageAdapter } from '@valv/storage'
import type { AuditContext } from '../audit/context.js'
import type { Policy } from '../classification/policy.js'
import { ComplianceError } from '../errors.js'
import { erasureStatus, type RetentionPolicy } from './policy.js'
import { type ErasureReceipt, receiptOf } from './receipt.js'

/** The part of a `DocumentSession` that authorises an erasure. */
export interface EraseAuthority {
  /** The document the session is for. */
  readonly docId: string
  /** The caller's role; only `Role.Admin` may erase. */
  readonly role: Role
}

/** What {@link eraseDocument} erases and under which rules. */
export interface EraseRequest {
  /** The admin's session for the document. */
  readonly authority: EraseAuthority
  /** The document's retention policy (`readRetention(ydoc)`); `{}` if it has none. */
  readonly retention: RetentionPolicy
  /** The document's classification policy (for its minimum retention), if marked. */
  readonly policy?: Pick<Policy, 'minRetentionDays'>
  /**
   * Document storage to purge: log, snapshots, blobs and membership chain of the document
   * (the relay's store when run by an operator tool, a local mirror on a device).
   */
  readonly documents?: readonly DocumentStore[]
  /**
   * Device storage the SDK controls (the adapter given to the provider as local store and to
   * sessions as key store): its sealed epoch keys, chain copy and local cache are destroyed.
   */
  readonly devices?: readonly StorageAdapter[]
  /** Further key stores to shred (e.g. `memoryKeyStore()` instances). */
  readonly keyStores?: readonly ErasableKeyStore[]
  /** Where the erasure (or its refusal) is recorded and who signs the receipt. */
  readonly audit: AuditContext
  /** The clock (ms since the epoch). */
  readonly now?: () => number
}

/**
 * Erase a document, or refuse and say why. Refused (and the refusal audited as
 * `erasure.refused`, nothing touched) when the caller is not an admin of the document
 * (`not-authorised`), while a legal hold is placed (`legal-hold`), or within the retention
 * period (`retention`). Otherwise, in this order: crypto-shredding (every key epoch, admission
 * secret and chain copy in each device and key store, so ciphertext anywhere becomes
 * unreadable to these devices even if a later step fails), the device caches, then the
 * document in each document store; then the `erasure` audit entry and a signed
 * {@link ErasureReceipt} sealing the trail through it.
 *
 * Not reachable from here: other members' devices (each must run the erasure, or be removed
 * and the key rotated first), and copies below the storage API (backups, PostgreSQL before
 * `VACUUM FULL`, S3 versions): see docs/compliance.md. Close open sessions of the document
 * first; their keys stay in memory until dropped.
 *
 * @example
 * ```ts
 * const trail = await AuditTrail.open(session.docId)
 * const audit = { trail, signer: documentAuditSigner(session) }
 * const receipt = await eraseDocument({
 *   authority: session,
 *   retention: readRetention(ydoc),
 *   devices: [new IndexedDBStorageAdapter()], // this device's key store and cache
 *   documents: [new DocumentStore(storage)], // a local mirror of the document
 *   audit,
 * })
 * console.log(formatReceipt(receipt))
 * ```
 */
export async function eraseDocument(request: EraseRequest): Promise<ErasureReceipt> {
  const { authority, audit } = request
  const docId = authority.docId
  const now = (request.now ?? Date.now)()
  const refuse = async (code: 'not-authorised' | 'legal-hold' | 'retention', why: string) => {
    await audit.trail.append(audit.signer, { type: 'erasure.refused', details: { reason: code } })
    throw new ComplianceError(code, `erasure of ${docId} refused: ${why}`)
  }
  if (authority.role !== Role.Admin) await refuse('not-authorised', 'only an admin may erase')
  const status = erasureStatus(request.retention, request.policy, now)
  if (status.refusal === 'legal-hold') await refuse('legal-hold', 'the document is under hold')
  if (status.refusal === 'retention') {
    await refuse('retention', `it must be kept through ${status.keepUntil ?? 'an unknown date'}`)
  }
  const devices = request.devices ?? []
  for (const store of [...devices, ...(request.keyStores ?? [])]) {
    await eraseLocalKeys(store, docId)
  }
  for (const device of devices) await eraseLocalCache(device, docId)
  for (const store of request.documents ?? []) await store.deleteDocument(docId)
  const { entry, head } = await audit.trail.appendSealed(audit.signer, {
    type: 'erasure',
    subject: docId,
    details: {
      documentStores: String(request.documents?.length ?? 0),
      devices: String(devices.length),
      keyStores: String(request.keyStores?.length ?? 0),
      due: status.due ? 'yes' : 'no',
    },
  })
  return receiptOf(entry, head)
}
