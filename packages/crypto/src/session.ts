import { ed25519 } from '@noble/curves/ed25519.js'
import {
  admissionUsable,
  type BlobGrantFields,
  blobGrantMessage,
  CryptoError,
  confirmationMessage,
  decodeEntry,
  deriveDocId,
  domainMessage,
  type EnvelopeKindName,
  ed25519Signer,
  encodeBlobGrant,
  encodeConfirmation,
  entryHash,
  equalBytes,
  HistoryPolicy,
  type MembershipEntry,
  MembershipState,
  Role,
  type SnapshotHeader,
  toHex,
  u64Bytes,
  utf8,
  verifyConfirmation,
} from '@valv/protocol'
import { epochKeys } from './bundle.js'
import { PublicCard } from './card.js'
import { type Checkpoint, checkpointOf, stripPayload } from './checkpoint.js'
import { decryptDocumentFile, encryptDocumentFile } from './document-files.js'
import { buildEntry, nowSeconds } from './entry-builder.js'
import { entryParts, type Reader } from './entry-parts.js'
import { type EnvelopeContext, openEnvelope, sealEnvelope } from './envelope-crypto.js'
import { exposedAdmissions } from './exposure.js'
import type { Identity } from './identity.js'
import { documentSigningSecret } from './identity.js'
import { admissionKeys, encodeInvite, parseInvite } from './invite.js'
import { KeyRing } from './keyring.js'
import { type ChainHead, LocalCopy } from './local-copy.js'
import { keyCommitment, Suite, type SuiteId } from './primitives/aead.js'
import { randomBytes } from './primitives/bytes.js'
import type { RecoveryKey } from './recovery.js'
import type {
  ChangeListener,
  CreateDocumentOptions,
  InviteInfo,
  InviteOptions,
  MemberInfo,
  MembershipSink,
  SessionOptions,
} from './session-options.js'

/** Entries appended after which the device checkpoint of the chain is rewritten anyway. */
const CHECKPOINT_EVERY = 64

const isConflict = (err: unknown): boolean => {
  const e = err as { code?: string; relayCode?: string }
  return e.code === 'membership-conflict' || e.relayCode === 'membership-conflict'
}

/**
 * One member's cryptographic view of one document: it seals and opens envelopes (it is the
 * `DocumentCrypto` of `@valv/core`), follows the membership chain, and changes membership
 * (share, unshare, invite links, rotation) through a {@link MembershipSink}. Applications never
 * handle a key: everything public-key happens inside.
 *
 * @example
 * ```ts
 * const session = await DocumentSession.create(me)
 * const provider = new WebsocketProvider({
 *   url: 'wss://relay.example.se', doc: new Y.Doc(), docId: session.docId, document: session,
 * })
 * await session.attach(provider)
 * await session.share(PublicCard.parse(colleagueCard), Role.Editor)
 * const link = await session.createInviteLink({ role: Role.Viewer, singleUse: true })
 * ```
 */
export class DocumentSession {
  /** The document id (self-certifying: derived from the genesis entry). */
  readonly docId: string
  private readonly state: MembershipState
  private readonly ring: KeyRing
  private readonly local: LocalCopy
  private signingSecret: Uint8Array | undefined
  private signer: ((message: Uint8Array) => Promise<Uint8Array>) | undefined
  private signingKey: Uint8Array | undefined
  private readonly unsent: Array<[number, Uint8Array]> = []
  private readonly listeners = new Set<ChangeListener>()
  private sink: MembershipSink | undefined
  private joining: Promise<void> | undefined
  private rotating = false
  private changing = 0
  /** Highest content counter opened per author index: recorded when a writer is demoted. */
  private readonly highest = new Map<number, number>()
  /** The longest chain a relay has shown (sent or acknowledged); persisted with the chain. */
  private verified: ChainHead = { length: 0, hash: new Uint8Array(32) }
  /** Set once the relay served an older or forked chain: membership changes refuse with it. */
  private relayFault: CryptoError | undefined
  /** Encoded entries of the verified chain, for the device checkpoint. */
  private readonly raw: Uint8Array[] = []
  /** Length of the chain the device checkpoint holds. */
  private checkpointed = 0

  private constructor(
    docId: string,
    private readonly me: Identity | undefined,
    private readonly recovery: RecoveryKey | undefined,
    private readonly options: SessionOptions,
  ) {
    this.docId = docId
    this.state = new MembershipState(docId)
    this.ring = new KeyRing(
      docId,
      () => (this.state.length > 0 ? this.state.suite : Suite.XChaCha20Poly1305) as SuiteId,
    )
    this.local = new LocalCopy(docId, options.keyStore, me)
    if (me !== undefined) this.useSigningSecret(documentSigningSecret(me, docId))
  }

  private useSigningSecret(secret: Uint8Array): void {
    this.signingSecret = secret
    this.signingKey = ed25519.getPublicKey(secret)
    this.signer = ed25519Signer(secret)
  }

  /** Stable pseudonymous author id of this device in this document (hex per-document key). */
  get author(): string {
    return this.signingKey === undefined ? 'recovery' : toHex(this.signingKey)
  }

  /** Create a new document with `me` as its first admin. */
  static async create(me: Identity, options: CreateDocumentOptions = {}): Promise<DocumentSession> {
    const nonce = randomBytes(16)
    // The id depends on the creator's per-document key, which for joiners depends on the id:
    // so the creator's key is derived from the nonce instead (see creatorSigningSecret).
    const creatorSecret = creatorSigningSecret(me, nonce)
    const docId = deriveDocId(ed25519.getPublicKey(creatorSecret), nonce)
    const session = new DocumentSession(docId, me, undefined, options)
    session.useSigningSecret(creatorSecret)
    const secret = randomBytes(32)
    const keys = epochKeys(docId, 0, secret)
    session.ring.epochs.set(0, keys)
    const suite = options.suite ?? Suite.XChaCha20Poly1305
    const bytes = buildEntry(
      session.state,
      session.requireSecret(),
      {
        kind: 'genesis',
        nonce,
        suite,
        writeRole: options.writeRole === 'commenter' ? Role.Commenter : Role.Editor,
        historyPolicy:
          options.historyPolicy === 'need-to-know' ? HistoryPolicy.needToKnow : HistoryPolicy.share,
        keyCommitment: keyCommitment(secret),
      },
      (index) =>
        entryParts.genesis(
          session.ring,
          session.state,
          index,
          me,
          ed25519.getPublicKey(creatorSecret),
          keys,
          options.recovery,
        ),
    )
    await session.applyEntry(0, bytes, true)
    session.unsent.push([0, bytes])
    return session
  }

  /** Open a document this device knows, from the key store (works offline). */
  static async open(
    me: Identity,
    docId: string,
    options: SessionOptions = {},
  ): Promise<DocumentSession> {
    const session = new DocumentSession(docId, me, undefined, options)
    await session.load()
    return session
  }

  /**
   * Join through an invite link (a URL or its `#…` fragment). The join entry is appended once
   * the session is attached and the admission has been received from the relay.
   */
  static async join(
    me: Identity,
    link: string,
    options: SessionOptions = {},
  ): Promise<DocumentSession> {
    const cap = parseInvite(link)
    const session = new DocumentSession(cap.docId, me, undefined, options)
    await session.load()
    session.ring.admissions.set(cap.admission, cap.secret)
    await session.local.saveSecrets(session.ring)
    return session
  }

  /**
   * A read-only session for the organisation holding the document's recovery key: it opens
   * every epoch's content. Feed it the chain with {@link applyMembership} (or attach a
   * provider).
   */
  static async recover(
    recovery: RecoveryKey,
    docId: string,
    options: SessionOptions = {},
  ): Promise<DocumentSession> {
    const session = new DocumentSession(docId, undefined, recovery, options)
    await session.load()
    return session
  }

  private async load(): Promise<void> {
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

  /** Register a listener for membership or key changes; returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Connect the membership sink (normally the WebSocket provider): sends a new document's
   * genesis, and completes a pending join once the admission is known.
   */
  async attach(sink: MembershipSink): Promise<void> {
    this.sink = sink
    await sink.whenSynced?.()
    while (this.unsent.length > 0) {
      const [index, bytes] = this.unsent[0] as [number, Uint8Array]
      await sink.appendMembership(index, bytes)
      this.unsent.shift()
    }
    this.maybeJoin()
  }

  /** Resolves when a pending join (invite or direct share) completed. */
  async joined(): Promise<void> {
    if (this.myIndex !== undefined) {
      if (this.role === Role.None)
        throw new CryptoError('not-authorised', 'removed from this document')
      return
    }
    this.maybeJoin()
    if (this.joining === undefined)
      throw new CryptoError('invalid-state', 'no admission to join with')
    await this.joining
  }

  /** Chain index of this device's membership, if it is a member. */
  get myIndex(): number | undefined {
    return this.signingKey === undefined
      ? undefined
      : this.state.memberByKey(this.signingKey)?.index
  }

  /** This device's current role. */
  get role(): Role {
    const i = this.myIndex
    return i === undefined ? Role.None : this.state.roleOf(i)
  }

  /** Current key epoch. */
  get epoch(): number {
    return this.state.epoch
  }

  /** Whether a removal happened and no rotation followed yet. */
  get rotationOwed(): boolean {
    return this.state.rotationOwed
  }

  /** Whether this member may seal updates and snapshots now. */
  canWrite(): boolean {
    return (
      this.state.length > 0 &&
      this.role >= this.state.writeRole &&
      this.ring.epochs.get(this.state.epoch)?.content !== undefined
    )
  }

  /** Number of membership entries known (the provider subscribes from here). */
  membershipLength(): number {
    return this.state.length
  }

  /** The members, with names where the certificates could be read. */
  members(): MemberInfo[] {
    return this.state.members.map((m) => {
      const cert = this.ring.cert(m.index)
      return {
        index: m.index,
        userId: cert && toHex(cert.userKey),
        displayName: cert?.displayName ?? '',
        deviceId: cert && toHex(cert.device.deviceKey),
        role: m.role,
        self: m.index === this.myIndex,
        ...(m.admission === undefined ? {} : { admission: m.admission }),
      }
    })
  }

  /**
   * Every invite an admin may want to revoke: not revoked and not used up, expired or not
   * (`expired` says which; `now` in Unix seconds decides it).
   */
  invites(now = nowSeconds()): InviteInfo[] {
    return this.state.admissions
      .filter((a) => !a.revoked && (a.maxUses === 0 || a.uses < a.maxUses))
      .map((a) => {
        const note = this.ring.note(a.index)
        return {
          admission: a.index,
          role: a.role,
          expiresAt: a.expiresAt,
          expired: !admissionUsable(a, now),
          usesLeft: a.maxUses === 0 ? Number.POSITIVE_INFINITY : a.maxUses - a.uses,
          forUser: note && toHex(note),
        }
      })
  }

  /**
   * Start encrypting a file of any size for this document, in constant memory: a fresh
   * per-file key, chunked AEAD, and a storage id that is a keyed hash (the relay cannot confirm
   * a guess of the content). Pass the file's `size` when known to pad it to a PADMÉ length, so
   * the relay learns only O(log log n) bits of it. Keep `key` in the document (for example in
   * a drive file version): it then travels encrypted like all content.
   *
   * @example
   * ```ts
   * const { blobId, key, stream } = session.encryptFile({ size: file.size })
   * await file.stream().pipeThrough(stream).pipeTo(upload(blobId))
   * ```
   */
  encryptFile(options: { readonly size?: number } = {}): {
    blobId: string
    key: Uint8Array
    stream: TransformStream<Uint8Array, Uint8Array>
  } {
    return encryptDocumentFile(this.ring.epochs.get(0)?.roster, this.docId, options)
  }

  /** A transform that decrypts a file sealed by {@link encryptFile} with its `key`. */
  decryptFile(key: Uint8Array): TransformStream<Uint8Array, Uint8Array> {
    return decryptDocumentFile(key)
  }

  /** What sealing and opening envelopes needs of this session. */
  private envelopeContext(): EnvelopeContext {
    return {
      docId: this.docId,
      state: this.state,
      ring: this.ring,
      padding: this.options.padding ?? 'padme',
      highest: this.highest,
    }
  }

  /**
   * Sign a blob grant (`@valv/protocol`'s `verifyBlobGrant`): this member asks the relay to
   * upload, download or delete blob `fields.blobId` on relay session `fields.sessionId`. The
   * relay checks the signature and this member's current role; it learns nothing else.
   */
  async signBlobGrant(fields: BlobGrantFields): Promise<Uint8Array> {
    const author = this.myIndex
    const secret = this.signingSecret
    if (author === undefined || secret === undefined)
      throw new CryptoError('invalid-state', 'not a member of this document')
    const sign = this.signer ?? ed25519Signer(secret)
    return encodeBlobGrant(author, await sign(blobGrantMessage(this.docId, fields)))
  }

  /**
   * Seal `plaintext` as `kind`: pad, encrypt under the current epoch, sign. A `snapshot` needs
   * its signed `header` (what it covers and replaces).
   */
  async seal(
    kind: EnvelopeKindName,
    plaintext: Uint8Array,
    counter: number,
    header?: SnapshotHeader,
  ): Promise<Uint8Array> {
    const author = this.myIndex
    const secret = this.signingSecret
    if (author === undefined || secret === undefined)
      throw new CryptoError('invalid-state', 'not a member of this document')
    const sign = this.signer ?? ed25519Signer(secret)
    return sealEnvelope(this.envelopeContext(), author, sign, kind, plaintext, counter, header)
  }

  /** Verify (signature, role, epoch), then decrypt. Throws a {@link CryptoError}. */
  async open(
    kind: EnvelopeKindName,
    sealed: Uint8Array,
  ): Promise<{
    author: string
    counter: number
    plaintext: Uint8Array
    writer: boolean
    snapshot?: SnapshotHeader & { id: Uint8Array }
  }> {
    return openEnvelope(this.envelopeContext(), this.myIndex, kind, sealed)
  }

  /**
   * Sign a confirmation of snapshot `id` (its `snapshotId`) with this member's per-document
   * key. Call it only after recomputing the snapshot from the updates it covers.
   */
  async confirmSnapshot(id: Uint8Array): Promise<Uint8Array> {
    const author = this.myIndex
    const secret = this.signingSecret
    if (author === undefined || secret === undefined || !this.canWrite())
      throw new CryptoError('not-authorised', 'only writers confirm snapshots')
    const sign = this.signer ?? ed25519Signer(secret)
    return encodeConfirmation(author, await sign(confirmationMessage(this.docId, id)))
  }

  /**
   * Verify a confirmation of snapshot `id`: signed by a member who writes (or wrote) content.
   * Resolves with the confirming author id; throws a {@link CryptoError}.
   */
  async openConfirmation(confirmation: Uint8Array, id: Uint8Array): Promise<string> {
    const v = await verifyConfirmation(this.state, confirmation, id, { formerWriters: true })
    return v.authorId
  }

  /**
   * Feed membership entry `index` (from the relay, in order). Verifies it against the chain
   * (throws and changes nothing if it does not extend it), stores it, and takes any keys or
   * certificates addressed to this reader from its payload. An entry this session already has
   * must be the same (`fork-detected` otherwise); either way the relay has now shown the chain
   * up to `index`, and that head is remembered (see {@link membershipSynced}).
   */
  async applyMembership(index: number, entry: Uint8Array): Promise<void> {
    const appended = await this.applyEntry(index, entry, true)
    if (index < this.verified.length) return
    // An entry appended here was hashed as it was appended.
    const hash = (appended && this.state.hashOf(index)) || entryHash(this.docId, entry)
    this.verified = { length: index + 1, hash }
    await this.local.saveHead(this.verified)
  }

  /**
   * {@link applyMembership} for consecutive entries `from`, `from + 1`, … (a relay's
   * catch-up), with the same checks, effects and errors as feeding them one by one; but the
   * signature checks of the new entries start together and run in parallel
   * (`MembershipState.appendManyAsync`), which makes a first join into a long chain faster.
   */
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

  /**
   * Told by a provider once a relay finished catching this session up: `relayLength` is how
   * many membership entries the relay proved it holds (it sent entry `relayLength - 1`; a
   * provider asks again for the newest entry it knows, so an intact relay always sends one).
   * Fewer than this session verified before means the relay's chain was rolled back (a storage
   * restore, or a relay hiding a removal): this throws `rollback-detected`, keeps the verified
   * chain, and membership changes refuse with that error until a relay shows the chain again.
   */
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

  /** Verify and append entry `index`; resolves `true` if it was appended here (not held). */
  private async applyEntry(index: number, entry: Uint8Array, persist: boolean): Promise<boolean> {
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
    this.maybeJoin()
    this.maybeRotate()
  }

  /** A genesis signed with this identity's creator key: this session is the creator. */
  private noticeGenesis(e: MembershipEntry): void {
    if (e.body.kind !== 'genesis' || this.me === undefined) return
    const creator = creatorSigningSecret(this.me, e.body.nonce)
    if (equalBytes(ed25519.getPublicKey(creator), e.signer)) this.useSigningSecret(creator)
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

  private requireSecret(): Uint8Array {
    if (this.signingSecret === undefined)
      throw new CryptoError('invalid-state', 'a recovery session cannot sign')
    return this.signingSecret
  }

  private requireAdmin(): void {
    if (this.role !== Role.Admin)
      throw new CryptoError('not-authorised', 'only an admin can change membership')
  }

  /**
   * Build an entry at the current head and append it, rebuilding on a concurrent append. A
   * build that returns `undefined` (the change is no longer needed) appends nothing.
   */
  private async submit(build: () => Uint8Array | undefined): Promise<number> {
    const sink = this.sink
    if (sink === undefined) throw new CryptoError('invalid-state', 'attach a provider first')
    for (let attempt = 0; ; attempt++) {
      if (this.relayFault !== undefined) throw this.relayFault
      const index = this.state.length
      const bytes = build()
      if (bytes === undefined) return -1
      try {
        await sink.appendMembership(index, bytes)
        if (this.state.length === index) await this.applyMembership(index, bytes)
        return index
      } catch (err) {
        if (this.relayFault !== undefined) throw this.relayFault
        if (!isConflict(err) || attempt >= 8) throw err
        // The relay says the head moved, so the entry that moved it must arrive; if it does
        // not, the relay's chain is not the one verified here (rolled back or withheld).
        if (!(await this.waitForLength(index + 1))) {
          throw new CryptoError(
            'rollback-detected',
            `the relay refused entry ${index} but sent no other entry ${index}`,
          )
        }
      }
    }
  }

  /** Resolves `true` once the chain has `n` entries, `false` if it still has not after `ms`. */
  private waitForLength(n: number, ms = 5000): Promise<boolean> {
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

  /** Append a set-role entry, recording the member's counter high-water mark. */
  private setRoleOf(member: number, role: Role): Promise<number> {
    const until = this.highest.get(member) ?? 0
    return this.submit(() =>
      buildEntry(
        this.state,
        this.requireSecret(),
        { kind: 'set-role', member, role, until },
        () => [],
      ),
    )
  }

  /**
   * Give `card`'s user `role`: one admission whose secret is sealed to each of the user's
   * devices; each device joins on its own (automatically, when it opens the document).
   */
  async share(card: PublicCard, role: Role): Promise<void> {
    this.requireAdmin()
    if (role === Role.None) throw new CryptoError('invalid-state', 'use unshare to remove')
    // Devices already in the chain (members, or removed earlier) change role in place: a key
    // stays in the chain for good, so a returning device cannot join again.
    const known = this.members().filter((m) => m.userId === card.userId)
    let returning = false
    for (const m of known) {
      if (m.role === role) continue
      returning ||= m.role === Role.None
      await this.setRoleOf(m.index, role)
    }
    // A rotation hands the current epoch to returning devices (rotations skip removed ones).
    if (returning) await this.rotate()
    const fresh = card.devices.filter((d) => !known.some((m) => m.deviceId === toHex(d.deviceKey)))
    if (fresh.length === 0) return
    const newcomers = new PublicCard(card.userKey, card.displayName, fresh)
    const secret = randomBytes(32)
    const adm = admissionKeys(this.docId, secret)
    await this.submit(() =>
      buildEntry(
        this.state,
        this.requireSecret(),
        {
          kind: 'admit',
          admissionKey: adm.publicKey,
          role,
          expiresAt: 0,
          maxUses: fresh.length,
        },
        (index) =>
          entryParts.admit(this.ring, this.state, index, secret, newcomers, this.requireSecret()),
      ),
    )
  }

  /** Create an invite link (a `#…` fragment to append to the app's URL). */
  async createInviteLink(options: InviteOptions): Promise<string> {
    this.requireAdmin()
    const secret = randomBytes(32)
    const adm = admissionKeys(this.docId, secret)
    const expires =
      options.expiresAt instanceof Date
        ? Math.floor(options.expiresAt.getTime() / 1000)
        : (options.expiresAt ?? 0)
    const maxUses = options.maxUses ?? (options.singleUse === true ? 1 : 0)
    const index = await this.submit(() =>
      buildEntry(
        this.state,
        this.requireSecret(),
        {
          kind: 'admit',
          admissionKey: adm.publicKey,
          role: options.role,
          expiresAt: expires,
          maxUses,
        },
        (i) => entryParts.admit(this.ring, this.state, i, secret, undefined, this.requireSecret()),
      ),
    )
    this.ring.admissions.set(index, secret)
    await this.local.saveSecrets(this.ring)
    return encodeInvite({ docId: this.docId, admission: index, secret })
  }

  /**
   * Revoke an invite (see {@link invites}), then rotate: nobody can join through it afterwards,
   * and whoever holds its secret (the link, or a member removed after joining through it) reads
   * nothing sealed from now on. Members who already joined through it stay members.
   */
  async revokeInvite(admission: number): Promise<void> {
    this.requireAdmin()
    this.changing++
    try {
      await this.revokeAdmission(admission)
    } finally {
      this.changing--
    }
    await this.rotate()
  }

  /** Append a revoke-admission entry, unless it is revoked already. */
  private revokeAdmission(admission: number): Promise<number> {
    return this.submit(() =>
      this.state.admission(admission)?.revoked === true
        ? undefined
        : buildEntry(
            this.state,
            this.requireSecret(),
            { kind: 'revoke-admission', admission },
            () => [],
          ),
    )
  }

  /** Change the role of every device of user `userId` (hex user key). */
  async setRole(userId: string, role: Role): Promise<void> {
    this.requireAdmin()
    const targets = this.members().filter((m) => m.userId === userId && m.role !== Role.None)
    if (targets.length === 0) throw new CryptoError('invalid-state', 'no such member')
    for (const t of targets) {
      await this.setRoleOf(t.index, role)
    }
  }

  /**
   * Remove user `userId` (all devices and invites made for them), then rotate to a new epoch key
   * that they never receive, however they joined: the rotation first revokes every admission
   * whose secret they hold (the link they joined through). If the rotation cannot be appended
   * now it stays owed and the next admin online completes it.
   */
  async unshare(userId: string): Promise<void> {
    this.requireAdmin()
    this.changing++
    let revoked: boolean
    try {
      revoked = await this.removeUser(userId)
    } finally {
      this.changing--
    }
    // A revoked invite's holders hold the current epoch even if nobody was removed.
    await this.rotate(!revoked)
  }

  /** Revoke the user's invites and remove its devices; returns whether an invite was revoked. */
  private async removeUser(userId: string): Promise<boolean> {
    const invites = this.invites().filter((i) => i.forUser === userId)
    for (const inv of invites) await this.revokeAdmission(inv.admission)
    const targets = this.members().filter((m) => m.userId === userId && m.role !== Role.None)
    for (const t of targets) {
      await this.setRoleOf(t.index, Role.None)
    }
    return invites.length > 0
  }

  /** Remove one device (a lost laptop) from this document and rotate. */
  async removeDevice(deviceId: string): Promise<void> {
    this.requireAdmin()
    const t = this.members().find((m) => m.deviceId === deviceId && m.role !== Role.None)
    if (t === undefined) throw new CryptoError('invalid-state', 'no such device')
    this.changing++
    try {
      await this.setRoleOf(t.index, Role.None)
    } finally {
      this.changing--
    }
    await this.rotate(true)
  }

  /** Leave the document (sets this device's own role to none). */
  async leave(): Promise<void> {
    const i = this.myIndex
    if (i === undefined) return
    await this.setRoleOf(i, Role.None)
  }

  /**
   * Start a new key epoch: a fresh random secret sealed to every remaining member's device key
   * (hybrid X25519 + ML-KEM-768), wrapped for invites still usable at the rotation's time that
   * this admin can read, and sealed to the recovery key. Invites whose secret a removed member
   * may hold are revoked first (see `exposedAdmissions`). With `onlyIfOwed`, nothing happens
   * unless a removal is still unrotated (another admin may have rotated meanwhile).
   */
  async rotate(onlyIfOwed = false): Promise<void> {
    this.requireAdmin()
    if (onlyIfOwed && !this.state.rotationOwed) return
    this.changing++
    try {
      for (const a of exposedAdmissions(this.state, nowSeconds())) await this.revokeAdmission(a)
    } finally {
      this.changing--
    }
    const secret = randomBytes(32)
    await this.submit(() => {
      if (onlyIfOwed && !this.state.rotationOwed) return undefined
      const epoch = this.state.epoch + 1
      const keys = epochKeys(this.docId, epoch, secret)
      return buildEntry(
        this.state,
        this.requireSecret(),
        { kind: 'rotate', epoch, keyCommitment: keyCommitment(secret) },
        (index, at) => entryParts.rotate(this.ring, this.state, index, keys, at),
      )
    })
  }

  private maybeRotate(): void {
    if (!this.state.rotationOwed || this.rotating || this.changing > 0) return
    if (this.sink === undefined || this.role !== Role.Admin) return
    this.rotating = true
    void this.rotate(true)
      .catch(() => undefined)
      .finally(() => {
        this.rotating = false
      })
  }

  private maybeJoin(): void {
    if (
      this.joining !== undefined ||
      this.sink === undefined ||
      this.me === undefined ||
      this.myIndex !== undefined
    )
      return
    const now = nowSeconds()
    const admission = [...this.ring.admissions.keys()].find((a) => {
      const adm = this.state.admission(a)
      return adm !== undefined && admissionUsable(adm, now)
    })
    if (admission === undefined) return
    const me = this.me
    const secret = this.ring.admissions.get(admission) as Uint8Array
    this.joining = this.submit(() => {
      const adm = admissionKeys(this.docId, secret)
      const signer = this.signingKey as Uint8Array
      const admissionSignature = ed25519.sign(
        domainMessage('admission', utf8(this.docId), u64Bytes(admission), signer),
        adm.signingSecret,
      )
      return buildEntry(
        this.state,
        this.requireSecret(),
        { kind: 'join', admission, admissionSignature },
        (index) => entryParts.join(this.ring, this.state, index, me, this.signingKey as Uint8Array),
      )
    }).then(
      () => undefined,
      (err) => {
        this.joining = undefined
        throw err
      },
    )
    this.joining.catch(() => undefined)
  }
}

/** The creator's per-document key: derived from the genesis nonce (the id does not exist yet). */
function creatorSigningSecret(me: Identity, nonce: Uint8Array): Uint8Array {
  return documentSigningSecret(me, `genesis.${toHex(nonce)}`)
}

/** The `prev` field of an encoded entry (after version, kind and the varuint index). */
function prevOf(entry: Uint8Array): Uint8Array {
  let at = 2
  while (((entry[at] as number) & 0x80) !== 0) at++
  return entry.subarray(at + 1, at + 33)
}
