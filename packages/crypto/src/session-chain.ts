import { ed25519 } from '@noble/curves/ed25519.js'
import {
  CryptoError,
  decodeEntry,
  entryHash,
  equalBytes,
  type MembershipEntry,
  MembershipState,
  Role,
} from '@valv/protocol'
import { type Checkpoint, checkpointOf, stripPayload } from './checkpoint.js'
import { creatorSigningSecret, type DocumentKey } from './document-key.js'
import { entryParts, type Reader } from './entry-parts.js'
import type { Identity } from './identity.js'
import type { KeyStore } from './key-store.js'
import { KeyRing } from './keyring.js'
import { type ChainHead, LocalCopy } from './local-copy.js'
import { Suite, type SuiteId } from './primitives/aead.js'
import type { RecoveryKey } from './recovery.js'
import type { ChangeListener } from './session-options.js'

/** Entries appended after which the device checkpoint of the chain is rewritten anyway. */
const CHECKPOINT_EVERY = 64

/**
 * A session's verified membership chain and what it read from it: entries from the relay are
 * checked against the chain (and against the longest chain a relay showed before, so a
 * rollback or fork is caught), stored in the device's local copy, and their payload parts
 * addressed to this reader taken into the key ring. `DocumentSession` delegates to it.
 */
export class SessionChain {
  readonly state: MembershipState
  readonly ring: KeyRing
  readonly local: LocalCopy
  /** Highest content counter opened per author index: recorded when a writer is demoted. */
  readonly highest = new Map<number, number>()
  /** Set once the relay served an older or forked chain: membership changes refuse with it. */
  relayFault: CryptoError | undefined
  /** Run after each new entry, after the listeners: the session's automatic join and rotation. */
  afterEntry: () => void = () => undefined
  private readonly listeners = new Set<ChangeListener>()
  /** The longest chain a relay has shown (sent or acknowledged); persisted with the chain. */
  private verified: ChainHead = { length: 0, hash: new Uint8Array(32) }
  /** Encoded entries of the verified chain, for the device checkpoint. */
  private readonly raw: Uint8Array[] = []
  /** Length of the chain the device checkpoint holds. */
  private checkpointed = 0

  constructor(
    readonly docId: string,
    private readonly key: DocumentKey,
    private readonly me: Identity | undefined,
    private readonly recovery: RecoveryKey | undefined,
    keyStore: KeyStore | undefined,
  ) {
    this.state = new MembershipState(docId)
    this.ring = new KeyRing(
      docId,
      () => (this.state.length > 0 ? this.state.suite : Suite.XChaCha20Poly1305) as SuiteId,
    )
    this.local = new LocalCopy(docId, keyStore, me)
  }

  /** Chain index of this device's membership, if it is a member. */
  get myIndex(): number | undefined {
    const key = this.key.publicKey
    return key === undefined ? undefined : this.state.memberByKey(key)?.index
  }

  /** This device's current role. */
  get role(): Role {
    const i = this.myIndex
    return i === undefined ? Role.None : this.state.roleOf(i)
  }

  /** Register a listener for membership or key changes; returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Resolves `true` once the chain has `n` entries, `false` if it still has not after `ms`. */
  waitForLength(n: number, ms = 5000): Promise<boolean> {
    if (this.state.length >= n) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), ms)
      const off = this.onChange(() => this.state.length >= n && done(true))
      function done(reached: boolean) {
        clearTimeout(timer)
        off()
        resolve(reached)
      }
    })
  }

  /** Load what the device knows of this document: checkpoint, newer entries, secrets. */
  async load(): Promise<void> {
    this.verified = (await this.local.loadHead()) ?? this.verified
    // Entries this device verified and read before come back from its sealed checkpoint with
    // no signature check, hash or decryption: a warm open costs no cryptography per entry.
    const known = await this.local.loadVerified()
    if (known !== undefined) this.restore(known)
    const from = known?.entries.length ?? 0
    for (const [index, entry] of await this.local.loadChain(from))
      await this.applyEntry(index, entry, false)
    await this.local.loadSecrets(this.ring, this.state)
    this.absorbAll()
    this.checkpointed = from
    if (this.raw.length > from) await this.checkpointChain()
  }

  /** Rebuild the state and what was read from checkpoint `c` (see `Checkpoint`). */
  private restore(c: Checkpoint): void {
    const n = c.entries.length
    // Entry i's chain hash is what entry i + 1 names as prev; the last one's is in `c`.
    const hashAt = (i: number) => (i === n - 1 ? c.head : prevOf(c.entries[i + 1] as Uint8Array))
    const v = this.verified.length
    if (v > 0 && v <= n && !equalBytes(hashAt(v - 1), this.verified.hash)) this.forked(v - 1)
    for (const [i, bytes] of c.entries.entries()) {
      const e = this.state.append(bytes, { signaturesVerified: true, knownHash: hashAt(i) })
      this.raw.push(bytes)
      this.noticeGenesis(e)
    }
    for (const [i, cert] of c.certs) this.ring.certs.set(i, cert)
    for (const [i, note] of c.notes) this.ring.notes.set(i, note)
    for (const [i, sealed] of c.sealedCerts) this.ring.sealedCerts.set(i, sealed)
    for (const [i, sealed] of c.sealedNotes) this.ring.sealedNotes.set(i, sealed)
    if (c.recoveryKey !== undefined) this.ring.recoveryKey = c.recoveryKey
    for (const [i, p] of c.pending) this.ring.pending.set(i, p)
  }

  /** Seal the verified chain as this device's checkpoint (see `LocalCopy.saveVerified`). */
  private async checkpointChain(): Promise<void> {
    const entries = this.raw.slice()
    await this.local.saveVerified(checkpointOf(entries, this.state.head, this.ring))
    this.checkpointed = Math.max(this.checkpointed, entries.length)
  }

  /** `DocumentSession.applyMembership`: apply entry `index` and remember the relay's head. */
  async applyMembership(index: number, entry: Uint8Array): Promise<void> {
    const appended = await this.applyEntry(index, entry, true)
    if (index < this.verified.length) return
    // An entry appended here was hashed as it was appended.
    const hash = (appended && this.state.hashOf(index)) || entryHash(this.docId, entry)
    this.verified = { length: index + 1, hash }
    await this.local.saveHead(this.verified)
  }

  /** `DocumentSession.applyMembershipMany`: a catch-up, signature checks started together. */
  async applyMembershipMany(from: number, entries: readonly Uint8Array[]): Promise<void> {
    let i = 0
    // Entries already held, or at the verified head, are compared one by one.
    const known = () => Math.max(this.state.length, this.verified.length)
    for (; i < entries.length && (from + i < known() || from + i > this.state.length); i++) {
      await this.applyMembership(from + i, entries[i] as Uint8Array)
    }
    if (i === entries.length) return
    let done = i
    let inEffects = false
    try {
      await this.state.appendManyAsync(entries.slice(i), {}, async (e, k) => {
        const index = from + i + k
        const hash = this.state.hashOf(index) as Uint8Array
        inEffects = true
        await this.appended(e, index, entries[i + k] as Uint8Array, true)
        if (index >= this.verified.length) {
          this.verified = { length: index + 1, hash }
          await this.local.saveHead(this.verified)
        }
        inEffects = false
        done = i + k + 1
      })
    } catch (err) {
      // Applied meanwhile by a concurrent caller (a submit and the relay's echo): go on one by
      // one from there, comparing, as applyEntry does.
      if (inEffects || from + done >= this.state.length) throw err
      for (; done < entries.length; done++) {
        await this.applyMembership(from + done, entries[done] as Uint8Array)
      }
    }
  }

  /** `DocumentSession.membershipSynced`: compare the relay's length with the verified one. */
  membershipSynced(relayLength: number): void {
    if (relayLength >= this.verified.length) {
      if (this.relayFault?.code === 'rollback-detected') this.relayFault = undefined
      // Caught up: the next open restores this chain without checking its signatures.
      if (this.raw.length > this.checkpointed) this.checkpointChain().catch(() => undefined)
      return
    }
    this.relayFault = new CryptoError(
      'rollback-detected',
      `the relay holds ${relayLength} membership entries; ${this.verified.length} were verified`,
    )
    throw this.relayFault
  }

  /**
   * Verify and append entry `index` (or compare it with the one held), take its parts for
   * this reader, and with `persist` store it; then tell the listeners and `afterEntry`.
   * Resolves `true` if the entry was appended here (not held already).
   */
  async applyEntry(index: number, entry: Uint8Array, persist: boolean): Promise<boolean> {
    if (index === this.verified.length - 1) {
      // The stored head outlives lost entries: the relay must show the same one again.
      if (!equalBytes(entryHash(this.docId, entry), this.verified.hash)) this.forked(index)
    }
    if (index < this.state.length) {
      const have = this.state.chain[index]
      if (have !== undefined && !equalBytes(decodeEntry(entry).signature, have.signature)) {
        this.forked(index)
      }
      return false
    }
    if (index !== this.state.length)
      throw new CryptoError('invalid-state', `membership gap before ${index}`)
    let e: MembershipEntry
    try {
      e = await this.state.appendAsync(entry)
    } catch (err) {
      // Applied meanwhile by a concurrent caller (a submit and the relay's echo): compare.
      if (index < this.state.length) return this.applyEntry(index, entry, persist)
      throw err
    }
    await this.appended(e, index, entry, persist)
    return true
  }

  /** What follows appending entry `index` (decoded `e`): storage, keys, listeners. */
  private async appended(
    e: MembershipEntry,
    index: number,
    entry: Uint8Array,
    persist: boolean,
  ): Promise<void> {
    // The checkpoint keeps the entry without its payload: what the payload holds for this
    // reader is taken now, or waits in the ring's pending parts.
    this.raw.push(stripPayload(e, entry))
    this.noticeGenesis(e)
    if (persist) await this.local.saveEntry(index, entry)
    this.absorb(e)
    if (persist) await this.local.saveSecrets(this.ring)
    // At least CHECKPOINT_EVERY new entries, and at least as many as the checkpoint holds, so
    // a long catch-up seals O(n) bytes in all, not O(n²).
    const due = Math.max(CHECKPOINT_EVERY, this.checkpointed)
    if (persist && this.raw.length - this.checkpointed >= due) {
      await this.checkpointChain()
    }
    for (const l of this.listeners) l()
    this.afterEntry()
  }

  /** A genesis signed with this identity's creator key: this session is the creator. */
  private noticeGenesis(e: MembershipEntry): void {
    if (e.body.kind !== 'genesis' || this.me === undefined) return
    const creator = creatorSigningSecret(this.me, e.body.nonce)
    if (equalBytes(ed25519.getPublicKey(creator), e.signer)) this.key.use(creator)
  }

  private forked(index: number): never {
    this.relayFault = new CryptoError('fork-detected', `a different entry ${index} was seen before`)
    throw this.relayFault
  }

  /** Who this session reads as: which sealed parts are addressed to it. */
  private reader(): Reader {
    return {
      ...(this.me === undefined ? {} : { me: this.me }),
      ...(this.recovery === undefined ? {} : { recovery: this.recovery.secretKey }),
      ...(this.myIndex === undefined ? {} : { myIndex: this.myIndex }),
    }
  }

  /** Take what `e` holds for this reader; retry waiting parts only if that taught it keys. */
  private absorb(e: MembershipEntry): void {
    const learned = entryParts.take(this.ring, this.state, e, this.reader())
    // Its own join tells this reader its index: parts waiting for it are now decided.
    if (learned || (e.index === this.myIndex && e.body.kind !== 'genesis')) this.absorbAll()
  }

  private absorbAll(): void {
    // Keys learned late (a joiner's bundle arrives after older entries) unlock older parts;
    // only parts still waiting are tried (KeyRing.pending), so a retry costs little.
    while (entryParts.retry(this.ring, this.state, this.reader())) {}
  }
}

/** The `prev` field of an encoded entry (after version, kind and the varuint index). */
function prevOf(entry: Uint8Array): Uint8Array {
  let at = 2
  while (((entry[at] as number) & 0x80) !== 0) at++
  return entry.subarray(at + 1, at + 33)
}
