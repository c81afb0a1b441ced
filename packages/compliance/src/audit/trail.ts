import { ComplianceError } from '../errors.js'
import type { AuditEvent } from './events.js'
import { formatTrailFile } from './file.js'
import {
  type AuditEntry,
  type AuditRecordSigner,
  decodeRecord,
  signEntry,
  signHead,
  ZERO_HASH,
} from './record.js'
import { verifyTrail } from './verify.js'

/**
 * Where a trail keeps its records: any `StorageAdapter` of `@valv/storage` fits (the relay's
 * store, IndexedDB on a device). Records are public (signed metadata, no content).
 */
export interface AuditStore {
  /** Read one value. */
  get(key: readonly string[]): Promise<Uint8Array | undefined>
  /** Write one value durably. */
  put(key: readonly string[], value: Uint8Array): Promise<void>
}

const seqSegment = (seq: number) => String(seq).padStart(16, '0')

/** Options of {@link AuditTrail.open}. */
export interface AuditTrailOptions {
  /** Persist records here under `['audit', trailId, <seq>]`; without it the trail is in memory. */
  readonly store?: AuditStore
  /** The clock (ms since the epoch); tests pin it. */
  readonly now?: () => number
}

/**
 * A tamper-evident log of security events for one document (or one organisation): each entry
 * is signed by its writer and names the hash of the entry before it, so whoever stores the
 * trail (the relay) cannot edit, forge, reorder or drop entries without {@link verifyTrail}
 * noticing; {@link AuditTrail.export} seals the end with a signed head so truncation shows too.
 * Entries hold no content, only who did what to whom (see {@link AuditEvent}).
 *
 * Appends are serialised within the object; one writer process per trail store (as with the
 * document log, the relay or one device owns sequence assignment).
 *
 * @example
 * ```ts
 * const trail = await AuditTrail.open(session.docId)
 * const signer = documentAuditSigner(session)
 * await trail.append(signer, {
 *   type: 'member.added',
 *   subject: 'admission:3',
 *   details: { role: 'editor' },
 * })
 * const file = await trail.export(signer) // text; check it with `valv-audit verify <file>`
 * ```
 */
export class AuditTrail {
  readonly #records: Uint8Array[] = []
  readonly #entries: AuditEntry[] = []
  #queue: Promise<unknown> = Promise.resolve()

  private constructor(
    /** The trail id (usually the document id). */
    readonly trailId: string,
    private readonly options: AuditTrailOptions,
  ) {}

  /**
   * Open a trail: empty, or loaded from `options.store` and verified entry by entry. A stored
   * trail that does not verify throws `broken-trail` (the verdict is the error's `cause`).
   */
  static async open(trailId: string, options: AuditTrailOptions = {}): Promise<AuditTrail> {
    const trail = new AuditTrail(trailId, options)
    const store = options.store
    if (store === undefined) return trail
    const records: Uint8Array[] = []
    for (;;) {
      const bytes = await store.get(['audit', trailId, seqSegment(records.length)])
      if (bytes === undefined) break
      records.push(bytes)
    }
    if (records.length > 0) {
      // Stored entries carry no head: the chain must verify up to the end, where one is missing.
      const probe = await verifyTrail(records, { trailId })
      if (!probe.ok && !(probe.code === 'missing-head' && probe.index === records.length)) {
        throw new ComplianceError('broken-trail', `stored trail breaks at ${probe.index}`, {
          cause: probe,
        })
      }
      trail.#records.push(...records)
      trail.#entries.push(...probe.entries)
    }
    return trail
  }

  /** Number of entries. */
  get length(): number {
    return this.#records.length
  }

  /** Hash of the last entry ({@link ZERO_HASH} when empty). */
  get headHash(): Uint8Array {
    return this.#entries.at(-1)?.hash ?? ZERO_HASH
  }

  /** The entries, decoded and verified, in order. */
  get entries(): readonly AuditEntry[] {
    return this.#entries
  }

  /** The encoded entries, in order. */
  get records(): readonly Uint8Array[] {
    return this.#records
  }

  /**
   * Append one event signed by `signer`; resolves with the entry once stored. Throws
   * `invalid-argument` for an event outside the limits (nothing is appended).
   */
  append(signer: AuditRecordSigner, event: AuditEvent): Promise<AuditEntry> {
    const run = this.#queue.then(async () => {
      const seq = this.#records.length
      const time = (this.options.now ?? Date.now)()
      const bytes = await signEntry(signer, this.trailId, seq, this.headHash, time, event)
      const record = decodeRecord(bytes)
      if (record.kind !== 'entry') throw new ComplianceError('malformed', 'not an entry')
      const store = this.options.store
      const key = ['audit', this.trailId, seqSegment(seq)]
      // Never overwrite: a record already there means another writer, or a store with a gap.
      if (store !== undefined && (await store.get(key)) !== undefined) {
        throw new ComplianceError('broken-trail', `the store already holds entry ${seq}`)
      }
      await store?.put(key, bytes)
      const { kind: _, ...entry } = record
      this.#records.push(bytes)
      this.#entries.push(entry)
      return entry
    })
    this.#queue = run.catch(() => undefined)
    return run
  }

  /**
   * Append one event and sign a head sealing the trail through it, with nothing in between:
   * a receipt for that event (see `ErasureReceipt`).
   */
  async appendSealed(
    signer: AuditRecordSigner,
    event: AuditEvent,
  ): Promise<{ entry: AuditEntry; head: Uint8Array }> {
    const entry = this.append(signer, event)
    // Queued right behind the append, so no other append can come between them.
    const head = this.head(signer)
    return { entry: await entry, head: await head }
  }

  /** A signed head sealing the entries so far (keep it to detect a later rollback). */
  head(signer: AuditRecordSigner): Promise<Uint8Array> {
    const run = this.#queue.then(() =>
      signHead(signer, this.trailId, this.length, this.headHash, (this.options.now ?? Date.now)()),
    )
    this.#queue = run.catch(() => undefined)
    return run
  }

  /** The whole trail as a trail file (entries + a head signed by `signer`), for auditors. */
  async export(signer: AuditRecordSigner): Promise<string> {
    const head = await this.head(signer)
    return formatTrailFile([...this.#records.slice(0, this.#count(head)), head])
  }

  #count(head: Uint8Array): number {
    const record = decodeRecord(head)
    return record.kind === 'head' ? record.length : this.#records.length
  }
}
