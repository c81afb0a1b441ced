import { domainHash, equalBytes, toHex, u64Bytes, utf8 } from './bytes.js'
import { deriveDocId } from './doc-id.js'
import { CryptoError } from './errors.js'
import {
  decodeEntry,
  type EntryBody,
  type HistoryPolicy,
  type MembershipEntry,
} from './membership-entry.js'
import type { ChainAdmission, ChainMember } from './membership-records.js'
import { type Verdicts, verdictsOf } from './membership-verdicts.js'
import { Role } from './roles.js'
import { verifyDomain } from './signature.js'

/** Options for {@link MembershipState.append}. */
export interface AppendOptions {
  /**
   * The verifier's clock in Unix seconds. When given (the relay does), an entry whose `at` is
   * further than `maxSkewSeconds` from it, or a join after its admission's expiry, is refused.
   */
  readonly now?: number
  /** Allowed clock difference in seconds (default 600). */
  readonly maxSkewSeconds?: number
  /**
   * The entry's signatures (its own, and a join's admission signature) were already verified
   * against this same chain: by this device in an earlier session, proven by a checkpoint
   * sealed under a key only this device holds. Every other rule (chain linkage, roles,
   * admissions) is still checked. Never set it for bytes from the network.
   */
  readonly signaturesVerified?: boolean
  /**
   * The entry's chain hash, when a source this device trusts already holds it (the next entry
   * of a checkpointed chain names it as `prev`): saves hashing the entry. Only together with
   * `signaturesVerified`; never for bytes from the network.
   */
  readonly knownHash?: Uint8Array
}

/**
 * Signature checks {@link MembershipState.appendManyAsync} keeps running ahead of the entry it
 * appends: enough to keep every worker thread busy, few enough that a long chain does not hold
 * thousands of messages in memory at once.
 */
const VERIFY_AHEAD = 32

const ZERO = new Uint8Array(32)
const ADMIN_KINDS = new Set(['admit', 'set-role', 'rotate', 'revoke-admission'])

/**
 * The public state of a document's membership chain: members by per-document key and role,
 * admissions, the key epoch and its commitments, and the chain head. Built only by appending
 * verified entries; every rule a verifier applies is here (docs/protocol.md, "Membership").
 * It needs no secret, so the relay runs the same code as clients.
 *
 * @example
 * ```ts
 * const state = new MembershipState(docId)
 * for (const entry of chain) state.append(entry)
 * state.roleOf(1) // the role of the member added by entry 1, e.g. Role.Editor
 * ```
 */
export class MembershipState {
  /** The document this chain belongs to. */
  readonly docId: string
  private readonly entries: MembershipEntry[] = []
  /** Chain hash of each entry (what the next one names as `prev`). */
  private readonly hashes: Uint8Array[] = []
  private readonly memberList: ChainMember[] = []
  private readonly byIndex = new Map<number, ChainMember>()
  private readonly byKey = new Map<string, number>()
  private readonly admissionMap = new Map<number, ChainAdmission>()
  private readonly commitments: Uint8Array[] = []
  private headHash: Uint8Array = ZERO
  private owed = false
  private genesis: Extract<EntryBody, { kind: 'genesis' }> | undefined

  /** Start an empty chain for `docId`. */
  constructor(docId: string) {
    this.docId = docId
  }

  /**
   * An independent copy (no re-verification): lets a verifier try an entry without changing
   * the state it caches.
   */
  clone(): MembershipState {
    const c = new MembershipState(this.docId)
    c.entries.push(...this.entries)
    c.hashes.push(...this.hashes)
    c.memberList.push(...this.memberList)
    for (const [k, v] of this.byIndex) c.byIndex.set(k, v)
    for (const [k, v] of this.byKey) c.byKey.set(k, v)
    for (const [k, v] of this.admissionMap) c.admissionMap.set(k, v)
    c.commitments.push(...this.commitments)
    c.headHash = this.headHash
    c.owed = this.owed
    c.genesis = this.genesis
    return c
  }

  /** Number of entries. */
  get length(): number {
    return this.entries.length
  }
  /** Chain hash of the newest entry (32 zero bytes when empty). */
  get head(): Uint8Array {
    return this.headHash
  }
  /** Current key epoch (number of rotations). */
  get epoch(): number {
    return this.commitments.length - 1
  }
  /** Default cipher suite from genesis. */
  get suite(): number {
    return this.requireGenesis().suite
  }
  /** Lowest role that may write updates and snapshots. */
  get writeRole(): Role {
    return this.requireGenesis().writeRole
  }
  /** The history policy from genesis. */
  get historyPolicy(): HistoryPolicy {
    return this.requireGenesis().historyPolicy
  }
  /** Whether a member was removed and no rotation followed yet (an admin owes one). */
  get rotationOwed(): boolean {
    return this.owed
  }
  /** Every member ever admitted, in chain order (removed ones with `Role.None`). */
  get members(): readonly ChainMember[] {
    return this.memberList
  }
  /** Every admission, in chain order. */
  get admissions(): readonly ChainAdmission[] {
    return [...this.admissionMap.values()]
  }
  /** Entries appended so far, decoded. */
  get chain(): readonly MembershipEntry[] {
    return this.entries
  }

  /** Chain hash of entry `index` (as {@link entryHash} of its bytes), or undefined. */
  hashOf(index: number): Uint8Array | undefined {
    return this.hashes[index]
  }
  /** Key commitment of `epoch`, or undefined. */
  commitment(epoch: number): Uint8Array | undefined {
    return this.commitments[epoch]
  }
  /** The member whose genesis/join entry is at chain index `index`. */
  member(index: number): ChainMember | undefined {
    return this.byIndex.get(index)
  }
  /** The member with per-document key `key`. */
  memberByKey(key: Uint8Array): ChainMember | undefined {
    const i = this.byKey.get(toHex(key))
    return i === undefined ? undefined : this.byIndex.get(i)
  }
  /** Current role of the member at `index` (`Role.None` if unknown or removed). */
  roleOf(index: number): Role {
    return this.byIndex.get(index)?.role ?? Role.None
  }
  /** The admission created at chain index `index`. */
  admission(index: number): ChainAdmission | undefined {
    return this.admissionMap.get(index)
  }

  /**
   * Verify `bytes` as the next entry and append it. Throws (`malformed`, `bad-signature`,
   * `not-authorised`, `fork-detected`, `expired`, `invalid-state`) and changes nothing if any
   * rule fails. Returns the decoded entry.
   */
  append(bytes: Uint8Array, options: AppendOptions = {}): MembershipEntry {
    const e = decodeEntry(bytes)
    this.check(e, options)
    this.commit(e, bytes, options)
    return e
  }

  /**
   * {@link append}, with the signatures checked through native WebCrypto Ed25519 where the
   * platform has it (`verifyDomainAsync`: same verdicts, several times faster): what a client
   * catching up on a long chain uses. The rules run after the signatures resolve, against the
   * state as it is then, in the same order and with the same errors as {@link append}.
   */
  async appendAsync(bytes: Uint8Array, options: AppendOptions = {}): Promise<MembershipEntry> {
    const e = decodeEntry(bytes)
    if (options.signaturesVerified === true) return this.append(bytes, options)
    const verdicts = await verdictsOf(this.docId, bytes, e, this.joinKey(e, new Map()))
    this.check(e, options, verdicts)
    this.commit(e, bytes, options, verdicts.hash)
    return e
  }

  /**
   * {@link appendAsync} for consecutive entries, with their signature checks started together
   * (up to 32 entries ahead) so native verifications run in parallel on the
   * platform's worker threads instead of one after the other. Only signatures are checked
   * ahead: each entry is then checked against the rules and appended in order, against the
   * state the entries before it left, and `each` runs (and is awaited) after each append,
   * before the next entry is checked. The verdicts and errors are those of calling
   * {@link appendAsync} for each entry in turn: it stops at the first entry that fails, with
   * its error, and the entries before it stay appended. Returns the decoded entries.
   */
  async appendManyAsync(
    entries: readonly Uint8Array[],
    options: AppendOptions = {},
    each?: (e: MembershipEntry, i: number) => void | Promise<void>,
  ): Promise<MembershipEntry[]> {
    const out: MembershipEntry[] = []
    // Admission keys of the admits in this batch, as the joins after them will find them.
    const admits = new Map<number, Uint8Array>()
    const ahead: Array<Promise<Verdicts> | undefined> = []
    const decoded: Array<MembershipEntry | undefined> = []
    const start = (i: number): void => {
      let e: MembershipEntry
      try {
        e = decodeEntry(entries[i] as Uint8Array)
      } catch {
        // Decoded again, and thrown, when its turn comes: the entries before it still append.
        return
      }
      decoded[i] = e
      if (e.body.kind === 'admit') admits.set(e.index, e.body.admissionKey)
      if (options.signaturesVerified === true) return
      const v = verdictsOf(this.docId, entries[i] as Uint8Array, e, this.joinKey(e, admits))
      v.catch(() => undefined)
      ahead[i] = v
    }
    let started = 0
    for (let i = 0; i < entries.length; i++) {
      while (started < entries.length && started <= i + VERIFY_AHEAD) start(started++)
      const bytes = entries[i] as Uint8Array
      const e = decoded[i] ?? decodeEntry(bytes)
      const v = ahead[i]
      ahead[i] = undefined
      const verdicts = v === undefined ? undefined : await v
      this.check(e, options, verdicts)
      this.commit(e, bytes, options, verdicts?.hash)
      out.push(e)
      await each?.(e, i)
    }
    return out
  }

  /**
   * The key a join's admission signature is expected to verify under: its admission's, from
   * `pending` (admits not appended yet) or the chain. `undefined` for other kinds.
   */
  private joinKey(e: MembershipEntry, pending: ReadonlyMap<number, Uint8Array>) {
    const b = e.body
    if (b.kind !== 'join') return undefined
    return pending.get(b.admission) ?? this.admissionMap.get(b.admission)?.key
  }

  private requireGenesis() {
    if (this.genesis === undefined) throw new CryptoError('invalid-state', 'chain has no genesis')
    return this.genesis
  }

  private check(e: MembershipEntry, o: AppendOptions, verdicts?: Verdicts): void {
    if (e.index !== this.entries.length || !equalBytes(e.prev, this.headHash)) {
      throw new CryptoError('fork-detected', `entry ${e.index} does not extend the chain head`)
    }
    // A chain never goes back to an older membership version (an old client cannot read on).
    const last = this.entries[this.entries.length - 1]
    if (last !== undefined && (e.version ?? 0) < (last.version ?? 0)) {
      throw new CryptoError('unsupported-version', `entry ${e.index} downgrades the version`)
    }
    if (o.now !== undefined && Math.abs(e.at - o.now) > (o.maxSkewSeconds ?? 600)) {
      throw new CryptoError('expired', 'entry time is too far from the verifier clock')
    }
    const docId = utf8(this.docId)
    if (
      o.signaturesVerified !== true &&
      !(verdicts?.signature ?? verifyDomain('membership', e.signer, e.signature, docId, e.signed))
    ) {
      throw new CryptoError('bad-signature', `entry ${e.index} signature does not verify`)
    }
    const b = e.body
    if ((b.kind === 'genesis') !== (e.index === 0)) {
      throw new CryptoError('malformed', 'genesis must be exactly the first entry')
    }
    const signer = this.memberByKey(e.signer)
    if (ADMIN_KINDS.has(b.kind) && signer?.role !== Role.Admin) {
      // Leaving or stepping down is the one change a non-admin may sign, for itself.
      const selfDemotion =
        b.kind === 'set-role' && signer !== undefined && b.member === signer.index
      if (!selfDemotion || b.role >= signer.role) {
        throw new CryptoError('not-authorised', `${b.kind} needs an admin signer`)
      }
    }
    switch (b.kind) {
      case 'genesis':
        if (deriveDocId(e.signer, b.nonce) !== this.docId) {
          throw new CryptoError('malformed', 'genesis does not derive this document id')
        }
        if (b.writeRole !== Role.Editor && b.writeRole !== Role.Commenter) {
          throw new CryptoError('malformed', 'write role must be editor or commenter')
        }
        if (b.suite === 0) throw new CryptoError('unsupported-suite', 'suite 0 is reserved')
        return
      case 'admit':
        if (b.role === Role.None) throw new CryptoError('malformed', 'admission without a role')
        return
      case 'join':
        this.checkJoin(e, b, o, verdicts)
        return
      case 'set-role': {
        const target = this.byIndex.get(b.member)
        if (target === undefined) throw new CryptoError('invalid-state', 'no such member')
        const admins = this.memberList.filter((m) => m.role === Role.Admin).length
        if (target.role === Role.Admin && b.role !== Role.Admin && admins <= 1) {
          throw new CryptoError('invalid-state', 'the last admin cannot be removed or demoted')
        }
        return
      }
      case 'rotate':
        if (b.epoch !== this.epoch + 1) {
          throw new CryptoError('invalid-state', `rotation must start epoch ${this.epoch + 1}`)
        }
        return
      case 'revoke-admission': {
        const a = this.admissionMap.get(b.admission)
        if (a === undefined || a.revoked)
          throw new CryptoError('invalid-state', 'no such admission')
        return
      }
    }
  }

  private checkJoin(
    e: MembershipEntry,
    b: Extract<EntryBody, { kind: 'join' }>,
    o: AppendOptions,
    verdicts?: Verdicts,
  ): void {
    const a = this.admissionMap.get(b.admission)
    if (a === undefined) throw new CryptoError('invalid-state', 'no such admission')
    if (a.revoked) throw new CryptoError('expired', 'admission was revoked')
    if (a.maxUses !== 0 && a.uses >= a.maxUses) throw new CryptoError('expired', 'admission used')
    const at = o.now ?? e.at
    if (a.expiresAt !== 0 && (at > a.expiresAt || e.at > a.expiresAt)) {
      throw new CryptoError('expired', 'admission expired')
    }
    if (this.byKey.has(toHex(e.signer))) {
      throw new CryptoError('invalid-state', 'key is already a member')
    }
    const pre = verdicts?.admission
    const ok =
      o.signaturesVerified === true ||
      (pre !== undefined && equalBytes(pre.key, a.key)
        ? pre.ok
        : verifyDomain(
            'admission',
            a.key,
            b.admissionSignature,
            utf8(this.docId),
            u64Bytes(b.admission),
            e.signer,
          ))
    if (!ok) throw new CryptoError('bad-signature', 'admission signature does not verify')
  }

  private addMember(m: ChainMember): void {
    this.memberList.push(m)
    this.byIndex.set(m.index, m)
    this.byKey.set(toHex(m.key), m.index)
  }

  /** Apply checked entry `e`; `hash` is its chain hash when already computed from `bytes`. */
  private commit(e: MembershipEntry, bytes: Uint8Array, o: AppendOptions, hash?: Uint8Array): void {
    const b = e.body
    switch (b.kind) {
      case 'genesis':
        this.genesis = b
        this.commitments.push(b.keyCommitment)
        this.addMember({ index: 0, key: e.signer, role: Role.Admin })
        break
      case 'admit':
        this.admissionMap.set(e.index, {
          index: e.index,
          key: b.admissionKey,
          role: b.role,
          expiresAt: b.expiresAt,
          maxUses: b.maxUses,
          uses: 0,
          revoked: false,
        })
        break
      case 'join': {
        const a = this.admissionMap.get(b.admission) as ChainAdmission
        this.admissionMap.set(a.index, { ...a, uses: a.uses + 1 })
        this.addMember({ index: e.index, key: e.signer, role: a.role, admission: a.index })
        break
      }
      case 'set-role': {
        const m = this.byIndex.get(b.member) as ChainMember
        const write = this.requireGenesis().writeRole
        const lost = m.role >= write && b.role < write
        const wroteUntil = { epoch: this.epoch, counter: b.until ?? 0 }
        const updated = lost ? { ...m, role: b.role, wroteUntil } : { ...m, role: b.role }
        this.byIndex.set(m.index, updated)
        this.memberList[this.memberList.indexOf(m)] = updated
        if (b.role === Role.None && m.role !== Role.None) this.owed = true
        break
      }
      case 'rotate':
        this.commitments.push(b.keyCommitment)
        this.owed = false
        break
      case 'revoke-admission': {
        const a = this.admissionMap.get(b.admission) as ChainAdmission
        this.admissionMap.set(a.index, { ...a, revoked: true })
        break
      }
    }
    this.entries.push(e)
    this.headHash =
      o.signaturesVerified === true && o.knownHash !== undefined
        ? o.knownHash
        : (hash ?? entryHash(this.docId, bytes))
    this.hashes.push(this.headHash)
  }
}

/** Chain hash of an encoded entry: what the next entry names as `prev`. */
export function entryHash(docId: string, entry: Uint8Array): Uint8Array {
  return domainHash('membership-entry', utf8(docId), entry)
}
