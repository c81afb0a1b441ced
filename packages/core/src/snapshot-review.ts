import type { ClientIds } from './client-ids.js'
import type { Compaction } from './compaction.js'
import type { DocumentCrypto, SnapshotPosition } from './crypto-seam.js'
import { CoreError } from './errors.js'
import type { Heads } from './heads.js'
import type { Misbehaviour } from './misbehaviour.js'
import { decodeSnapshotBody, equalBytes, hexOf, type SnapshotBody } from './snapshot.js'

type Position = SnapshotPosition & { readonly id: Uint8Array }

/** A snapshot seen while pending: built here, checked here, or not checkable here. */
interface Candidate {
  readonly id: Uint8Array
  readonly upToSeq: number
  readonly author: string
  readonly state: Uint8Array
  readonly counters: Heads
  readonly clientIds?: ClientIds
  readonly status: 'own' | 'verified' | 'unchecked' | 'forged'
}

/** What a confirmed snapshot gives its adopter. */
export interface ConfirmedBase {
  readonly upToSeq: number
  readonly id: Uint8Array
  readonly state: Uint8Array
  readonly counters: Heads
  /** Yjs client id bindings it carries (absent in snapshots made before binding). */
  readonly clientIds: ClientIds | undefined
}

/** What {@link SnapshotReview} needs from its binding. */
export interface ReviewDeps {
  readonly crypto: DocumentCrypto
  readonly compaction: () => Compaction
  readonly lastSeq: () => number
  readonly misbehaviour: (m: Misbehaviour) => void
}

const KEEP = 8

/**
 * The member's side of snapshot confirmation (docs/protocol.md, "Snapshots"): it opens
 * snapshots, recomputes those whose covered updates it holds, signs confirmations of the ones
 * that match, remembers the ones that do not, and accepts a base only with a confirmation by a
 * second writer (or the relay's word that the author was the only writer).
 */
export class SnapshotReview {
  private readonly candidates = new Map<string, Candidate>()
  private readonly forged = new Set<string>()

  constructor(private readonly deps: ReviewDeps) {}

  /** Open a snapshot and check that it is where the relay says. Throws on any failure. */
  async open(
    sealed: Uint8Array,
    upToSeq: number,
  ): Promise<{ author: string; position: Position; body: SnapshotBody; plaintext: Uint8Array }> {
    const opened = await this.deps.crypto.open('snapshot', sealed)
    const position = opened.snapshot
    if (position === undefined || position.upToSeq !== upToSeq) {
      throw new CoreError('malformed', 'snapshot position does not match the relay')
    }
    const body = decodeSnapshotBody(opened.plaintext)
    return { author: opened.author, position, body, plaintext: opened.plaintext }
  }

  /**
   * Open the relay's base snapshot and check its confirmation (and, if this client holds the
   * covered updates, its content). Undefined if it was caught as forged; throws if it does not
   * verify.
   */
  async openBase(sealed: Uint8Array, upToSeq: number, confirmation: Uint8Array) {
    const s = await this.open(sealed, upToSeq)
    const key = hexOf(s.position.id)
    if (confirmation.length > 0) {
      const check = this.deps.crypto.openConfirmation
      if (check === undefined) throw new CoreError('malformed', 'cannot check a confirmation')
      const confirmer = await check.call(this.deps.crypto, confirmation, s.position.id)
      if (confirmer === s.author) throw new CoreError('malformed', 'author confirmed itself')
    }
    if (this.forged.has(key) || this.check(s.position, s.plaintext, s.body.gc) === false) {
      this.forged.add(key)
      this.accuse(
        s.author,
        upToSeq,
        'relay serves as base a snapshot that differs from its updates',
      )
      return undefined
    }
    return s
  }

  /**
   * Check a pending snapshot. Resolves with a confirmation to send if it matches the covered
   * updates and this member may confirm; raises `forged-snapshot` if it differs.
   */
  async review(sealed: Uint8Array, upToSeq: number): Promise<Uint8Array | undefined> {
    let s: Awaited<ReturnType<SnapshotReview['open']>>
    try {
      s = await this.open(sealed, upToSeq)
    } catch {
      this.deps.misbehaviour({
        kind: 'invalid',
        message: 'relay served a snapshot that does not verify',
        seq: upToSeq,
      })
      return undefined
    }
    const verdict = this.check(s.position, s.plaintext, s.body.gc)
    const status = verdict === undefined ? 'unchecked' : verdict ? 'verified' : 'forged'
    this.remember({ ...s.position, author: s.author, ...s.body, status })
    if (status === 'forged') {
      this.forged.add(hexOf(s.position.id))
      this.accuse(s.author, upToSeq, 'snapshot differs from the updates it covers')
      return undefined
    }
    const crypto = this.deps.crypto
    if (status !== 'verified' || s.author === crypto.author || !crypto.canWrite()) return undefined
    return crypto.confirmSnapshot?.(s.position.id)
  }

  /** Remember the member's own snapshot (built by `Compaction`) until the relay confirms it. */
  async own(
    sealed: Uint8Array,
    built: { state: Uint8Array; counters: Heads; clientIds: ClientIds },
  ): Promise<void> {
    const opened = await this.deps.crypto.open('snapshot', sealed)
    const p = opened.snapshot as Position
    this.remember({ ...p, author: opened.author, ...built, status: 'own' })
  }

  /** The relay confirmed the member's own snapshot `sealed`. */
  async ownConfirmed(sealed: Uint8Array): Promise<ConfirmedBase | undefined> {
    const opened = await this.deps.crypto.open('snapshot', sealed)
    const c = opened.snapshot && this.candidates.get(hexOf(opened.snapshot.id))
    return c && this.adopted(c)
  }

  /**
   * The relay says its pending snapshot at `upToSeq` is confirmed. Resolves with the base to
   * adopt, or undefined (unknown snapshot, bad confirmation, or one caught as forged).
   */
  async confirmed(upToSeq: number, confirmation: Uint8Array): Promise<ConfirmedBase | undefined> {
    for (const c of this.candidates.values()) {
      if (c.upToSeq !== upToSeq) continue
      let confirmer: string | undefined
      if (confirmation.length > 0) {
        try {
          confirmer = await this.deps.crypto.openConfirmation?.(confirmation, c.id)
        } catch {
          continue
        }
        if (confirmer === undefined || confirmer === c.author) continue
      }
      if (c.status === 'forged') {
        this.accuse(
          confirmer ?? c.author,
          upToSeq,
          'confirmed a snapshot that differs from its updates',
        )
        return undefined
      }
      return this.adopted(c)
    }
    return undefined
  }

  /** True/false: recomputed and compared; undefined: this client does not hold the updates. */
  private check(p: Position, plaintext: Uint8Array, gc: boolean): boolean | undefined {
    const compaction = this.deps.compaction()
    const base = compaction.base
    if (base === undefined || p.upToSeq > this.deps.lastSeq()) return undefined
    if (base.upToSeq !== p.prevSeq || !equalBytes(base.id, p.prev)) return undefined
    const built = compaction.build(p.upToSeq, gc)
    return built !== undefined && equalBytes(built.body, plaintext)
  }

  private accuse(author: string, seq: number, message: string): void {
    this.deps.misbehaviour({ kind: 'forged-snapshot', message, author, seq })
  }

  private remember(c: Candidate): void {
    this.candidates.set(hexOf(c.id), c)
    while (this.candidates.size > KEEP) {
      this.candidates.delete(this.candidates.keys().next().value as string)
    }
  }

  private adopted(c: Candidate): ConfirmedBase {
    for (const [k, other] of this.candidates)
      if (other.upToSeq <= c.upToSeq) this.candidates.delete(k)
    return {
      upToSeq: c.upToSeq,
      id: c.id,
      state: c.state,
      counters: c.counters,
      clientIds: c.clientIds,
    }
  }
}
