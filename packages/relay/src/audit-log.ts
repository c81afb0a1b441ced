import { ed25519 } from '@noble/curves/ed25519.js'
import {
  AUDIT_ZERO_HASH,
  type AuditEvent,
  type AuditRecordSigner,
  checkAuditSignature,
  decodeAuditRecord,
  domainMessage,
  ed25519Signer,
  equalBytes,
  signAuditEntry,
  signAuditHead,
  toHex,
} from '@valv/protocol'
import type { StorageAdapter } from '@valv/storage'

/** Options of the relay's own audit trail (`RelayOptions.audit`). */
export interface RelayAuditOptions {
  /**
   * The relay's 32-byte Ed25519 secret key for audit records: a service key of the relay
   * operator (from a KMS or a file), never a member's key. Auditors pin its public key
   * ({@link RelayAuditLog.publicKey}) as a `signers` entry of `verifyTrail`.
   */
  readonly key: Uint8Array
  /** Trail id (default `relay`); nodes sharing a store share the trail. */
  readonly trailId?: string
  /**
   * Most `write.refused` entries per minute (default 60): a flood of refused writes must not
   * fill the store. Refusals beyond are counted and reported in the next entry (`suppressed`).
   */
  readonly refusalsPerMinute?: number
  /** The clock (ms since the epoch); tests pin it. */
  readonly now?: () => number
}

const seqSegment = (seq: number) => String(seq).padStart(16, '0')

/**
 * The relay's append-only, hash-chained audit trail of admin-relevant events (erasures,
 * refused writes, membership appends), signed with the relay's own key. Records use the format
 * of `@valv/protocol` and the layout `audit/<trailId>/<seq>` of `AuditTrail` in
 * `@valv/compliance`, so the same verifier (`verifyTrail`, `valv-audit verify`) checks them and
 * the operator's storage cannot edit, reorder or drop an entry unnoticed. Events name document
 * ids, chain positions and reject codes, never content.
 */
export class RelayAuditLog {
  /** The relay's audit public key (32 bytes): give it to auditors. */
  readonly publicKey: Uint8Array
  /** The trail id. */
  readonly trailId: string
  private readonly signer: AuditRecordSigner
  private readonly now: () => number
  private readonly refusalLimit: number
  private length = 0
  private head: Uint8Array = AUDIT_ZERO_HASH
  private queue: Promise<unknown>
  private window = { start: 0, used: 0, suppressed: 0 }

  constructor(
    private readonly store: StorageAdapter,
    options: RelayAuditOptions,
  ) {
    if (options.key.length !== 32) throw new TypeError('relay audit key must be 32 bytes')
    const secret = options.key.slice()
    const sign = ed25519Signer(secret)
    this.publicKey = ed25519.getPublicKey(secret)
    this.signer = {
      publicKey: this.publicKey,
      signAudit: (...parts) => sign(domainMessage('audit', ...parts)),
    }
    this.trailId = options.trailId ?? 'relay'
    this.now = options.now ?? Date.now
    this.refusalLimit = options.refusalsPerMinute ?? 60
    // Read what is stored before the first append, and check it links up.
    this.queue = this.catchUp()
    this.queue.catch(() => undefined)
  }

  /** Hex of {@link RelayAuditLog.publicKey}. */
  get keyId(): string {
    return toHex(this.publicKey)
  }

  /**
   * Append one event; resolves with its position once durable. Appends are serialised; with
   * several nodes on one store, a position another node took is skipped after reading its entry.
   */
  append(event: AuditEvent): Promise<number> {
    const run = this.queue.then(async () => {
      for (let attempt = 0; attempt < 16; attempt++) {
        const seq = this.length
        const bytes = await signAuditEntry(
          this.signer,
          this.trailId,
          seq,
          this.head,
          this.now(),
          event,
        )
        if (await this.create(seq, bytes)) {
          this.length = seq + 1
          this.head = (decodeAuditRecord(bytes) as { hash: Uint8Array }).hash
          return seq
        }
        await this.catchUp()
      }
      throw new Error('audit trail contended')
    })
    this.queue = run.catch(() => undefined)
    return run
  }

  /**
   * Record a refused write, at most `refusalsPerMinute` a minute; refusals beyond are counted
   * into the next recorded one. Never throws (a failure is the caller's log line, not a reject).
   */
  refused(docId: string, code: string): Promise<number | undefined> {
    const t = this.now()
    if (t - this.window.start >= 60_000)
      this.window = { start: t, used: 0, suppressed: this.window.suppressed }
    if (this.window.used >= this.refusalLimit) {
      this.window.suppressed++
      return Promise.resolve(undefined)
    }
    this.window.used++
    const suppressed = this.window.suppressed
    this.window.suppressed = 0
    const details: Record<string, string> = { code }
    if (suppressed > 0) details.suppressed = String(suppressed)
    return this.append({ type: 'write.refused', subject: docId, details })
  }

  /**
   * The trail so far plus a head signed now (entries in order, head last): give it to
   * `formatTrailFile` of `@valv/compliance` and an auditor checks it with `valv-audit verify`.
   */
  export(): Promise<Uint8Array[]> {
    const run = this.queue.then(async () => {
      await this.catchUp()
      const records: Uint8Array[] = []
      for (let seq = 0; seq < this.length; seq++) {
        const bytes = await this.store.get(this.key(seq))
        if (bytes === undefined) throw new Error(`audit entry ${seq} is missing`)
        records.push(bytes)
      }
      const head = await signAuditHead(
        this.signer,
        this.trailId,
        this.length,
        this.head,
        this.now(),
      )
      return [...records, head]
    })
    this.queue = run.catch(() => undefined)
    return run
  }

  private key(seq: number): string[] {
    return ['audit', this.trailId, seqSegment(seq)]
  }

  private async create(seq: number, bytes: Uint8Array): Promise<boolean> {
    const key = this.key(seq)
    if (this.store.create) return this.store.create(key, bytes)
    if ((await this.store.get(key)) !== undefined) return false
    await this.store.put(key, bytes)
    return true
  }

  /** Read entries stored after the known end and check each links to the one before. */
  private async catchUp(): Promise<void> {
    for (;;) {
      const bytes = await this.store.get(this.key(this.length))
      if (bytes === undefined) return
      const record = decodeAuditRecord(bytes)
      const linked =
        record.kind === 'entry' &&
        record.trailId === this.trailId &&
        record.seq === this.length &&
        equalBytes(record.prev, this.head) &&
        (await checkAuditSignature(record))
      if (!linked || record.kind !== 'entry') {
        throw new Error(`stored audit entry ${this.length} does not link to the trail`)
      }
      this.length++
      this.head = record.hash
    }
  }
}
