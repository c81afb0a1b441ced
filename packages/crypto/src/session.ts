import {
  type BlobGrantFields,
  blobGrantMessage,
  CryptoError,
  confirmationMessage,
  type EnvelopeKindName,
  encodeBlobGrant,
  encodeConfirmation,
  type Role,
  type SnapshotHeader,
  verifyConfirmation,
} from '@valv/protocol'
import type { PublicCard } from './card.js'
import { decryptDocumentFile, encryptDocumentFile } from './document-files.js'
import { genesisDocId, writeGenesis } from './document-genesis.js'
import { DocumentKey } from './document-key.js'
import { nowSeconds } from './entry-builder.js'
import {
  type EnvelopeContext,
  type OpenedEnvelope,
  openEnvelope,
  sealEnvelope,
} from './envelope-crypto.js'
import type { Identity } from './identity.js'
import { parseInvite } from './invite.js'
import { MembershipChanges } from './membership-changes.js'
import { listInvites, listMembers } from './membership-view.js'
import { randomBytes } from './primitives/bytes.js'
import type { RecoveryKey } from './recovery.js'
import { SessionChain } from './session-chain.js'
import type {
  ChangeListener,
  CreateDocumentOptions,
  InviteInfo,
  InviteOptions,
  MemberInfo,
  MembershipSink,
  SessionOptions,
} from './session-options.js'
import { openSigningPort } from './signing-port.js'

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
  /** This device's per-document signing key (none in a recovery session). */
  private readonly key: DocumentKey
  /** The verified membership chain and what this session read from it. */
  private readonly chain: SessionChain
  /** The membership entries this session writes (join, shares, rotations...). */
  private readonly changes: MembershipChanges

  private constructor(
    docId: string,
    me: Identity | undefined,
    recovery: RecoveryKey | undefined,
    private readonly options: SessionOptions,
  ) {
    this.docId = docId
    this.key = new DocumentKey(me, docId)
    this.chain = new SessionChain(docId, this.key, me, recovery, options.keyStore)
    this.changes = new MembershipChanges(this.chain, this.key, me)
    this.chain.afterEntry = () => this.changes.afterEntry()
    openSigningPort(this, docId, this.key)
  }

  /** Stable pseudonymous author id of this device in this document (hex per-document key). */
  get author(): string {
    return this.key.author
  }

  /** Create a new document with `me` as its first admin. */
  static async create(me: Identity, options: CreateDocumentOptions = {}): Promise<DocumentSession> {
    const nonce = randomBytes(16)
    const session = new DocumentSession(genesisDocId(me, nonce), me, undefined, options)
    const genesis = await writeGenesis(session.chain, session.key, me, nonce, options)
    session.changes.queue(0, genesis)
    return session
  }

  /** Open a document this device knows, from the key store (works offline). */
  static async open(
    me: Identity,
    docId: string,
    options: SessionOptions = {},
  ): Promise<DocumentSession> {
    const session = new DocumentSession(docId, me, undefined, options)
    await session.chain.load()
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
    await session.chain.load()
    session.chain.ring.admissions.set(cap.admission, cap.secret)
    await session.chain.local.saveSecrets(session.chain.ring)
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
    await session.chain.load()
    return session
  }

  /** Register a listener for membership or key changes; returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    return this.chain.onChange(listener)
  }

  /**
   * Connect the membership sink (normally the WebSocket provider): sends a new document's
   * genesis, and completes a pending join once the admission is known.
   */
  attach(sink: MembershipSink): Promise<void> {
    return this.changes.attach(sink)
  }

  /** Resolves when a pending join (invite or direct share) completed. */
  joined(): Promise<void> {
    return this.changes.joined()
  }

  /** Chain index of this device's membership, if it is a member. */
  get myIndex(): number | undefined {
    return this.chain.myIndex
  }

  /** This device's current role. */
  get role(): Role {
    return this.chain.role
  }

  /** Current key epoch. */
  get epoch(): number {
    return this.chain.state.epoch
  }

  /** Whether a removal happened and no rotation followed yet. */
  get rotationOwed(): boolean {
    return this.chain.state.rotationOwed
  }

  /** Whether this member may seal updates and snapshots now. */
  canWrite(): boolean {
    const { state, ring } = this.chain
    return (
      state.length > 0 &&
      this.role >= state.writeRole &&
      ring.epochs.get(state.epoch)?.content !== undefined
    )
  }

  /** Number of membership entries known (the provider subscribes from here). */
  membershipLength(): number {
    return this.chain.state.length
  }

  /** The members, with names where the certificates could be read. */
  members(): MemberInfo[] {
    return listMembers(this.chain.state, this.chain.ring, this.myIndex)
  }

  /**
   * Every invite an admin may want to revoke: not revoked and not used up, expired or not
   * (`expired` says which; `now` in Unix seconds decides it).
   */
  invites(now = nowSeconds()): InviteInfo[] {
    return listInvites(this.chain.state, this.chain.ring, now)
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
    return encryptDocumentFile(this.chain.ring.epochs.get(0)?.roster, this.docId, options)
  }

  /** A transform that decrypts a file sealed by {@link encryptFile} with its `key`. */
  decryptFile(key: Uint8Array): TransformStream<Uint8Array, Uint8Array> {
    return decryptDocumentFile(key)
  }

  /** What sealing and opening envelopes needs of this session. */
  private envelopeContext(): EnvelopeContext {
    return {
      docId: this.docId,
      state: this.chain.state,
      ring: this.chain.ring,
      padding: this.options.padding ?? 'padme',
      highest: this.chain.highest,
    }
  }

  /**
   * Sign a blob grant (`@valv/protocol`'s `verifyBlobGrant`): this member asks the relay to
   * upload, download or delete blob `fields.blobId` on relay session `fields.sessionId`. The
   * relay checks the signature and this member's current role; it learns nothing else.
   */
  async signBlobGrant(fields: BlobGrantFields): Promise<Uint8Array> {
    const author = this.myIndex
    if (author === undefined || !this.key.present)
      throw new CryptoError('invalid-state', 'not a member of this document')
    return encodeBlobGrant(author, await this.key.sign(blobGrantMessage(this.docId, fields)))
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
    if (author === undefined || !this.key.present)
      throw new CryptoError('invalid-state', 'not a member of this document')
    const sign = (message: Uint8Array) => this.key.sign(message)
    return sealEnvelope(this.envelopeContext(), author, sign, kind, plaintext, counter, header)
  }

  /** Verify (signature, role, epoch), then decrypt. Throws a {@link CryptoError}. */
  async open(kind: EnvelopeKindName, sealed: Uint8Array): Promise<OpenedEnvelope> {
    return openEnvelope(this.envelopeContext(), this.myIndex, kind, sealed)
  }

  /**
   * Sign a confirmation of snapshot `id` (its `snapshotId`) with this member's per-document
   * key. Call it only after recomputing the snapshot from the updates it covers.
   */
  async confirmSnapshot(id: Uint8Array): Promise<Uint8Array> {
    const author = this.myIndex
    if (author === undefined || !this.key.present || !this.canWrite())
      throw new CryptoError('not-authorised', 'only writers confirm snapshots')
    return encodeConfirmation(author, await this.key.sign(confirmationMessage(this.docId, id)))
  }

  /**
   * Verify a confirmation of snapshot `id`: signed by a member who writes (or wrote) content.
   * Resolves with the confirming author id; throws a {@link CryptoError}.
   */
  async openConfirmation(confirmation: Uint8Array, id: Uint8Array): Promise<string> {
    const v = await verifyConfirmation(this.chain.state, confirmation, id, { formerWriters: true })
    return v.authorId
  }

  /**
   * Feed membership entry `index` (from the relay, in order). Verifies it against the chain
   * (throws and changes nothing if it does not extend it), stores it, and takes any keys or
   * certificates addressed to this reader from its payload. An entry this session already has
   * must be the same (`fork-detected` otherwise); either way the relay has now shown the chain
   * up to `index`, and that head is remembered (see {@link membershipSynced}).
   */
  applyMembership(index: number, entry: Uint8Array): Promise<void> {
    return this.chain.applyMembership(index, entry)
  }

  /**
   * {@link applyMembership} for consecutive entries `from`, `from + 1`, … (a relay's
   * catch-up), with the same checks, effects and errors as feeding them one by one; but the
   * signature checks of the new entries start together and run in parallel
   * (`MembershipState.appendManyAsync`), which makes a first join into a long chain faster.
   */
  applyMembershipMany(from: number, entries: readonly Uint8Array[]): Promise<void> {
    return this.chain.applyMembershipMany(from, entries)
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
    this.chain.membershipSynced(relayLength)
  }

  /**
   * Give `card`'s user `role`: one admission whose secret is sealed to each of the user's
   * devices; each device joins on its own (automatically, when it opens the document).
   */
  share(card: PublicCard, role: Role): Promise<void> {
    return this.changes.share(card, role)
  }

  /** Create an invite link (a `#…` fragment to append to the app's URL). */
  createInviteLink(options: InviteOptions): Promise<string> {
    return this.changes.createInviteLink(options)
  }

  /**
   * Revoke an invite (see {@link invites}), then rotate: nobody can join through it afterwards,
   * and whoever holds its secret (the link, or a member removed after joining through it) reads
   * nothing sealed from now on. Members who already joined through it stay members.
   */
  revokeInvite(admission: number): Promise<void> {
    return this.changes.revokeInvite(admission)
  }

  /** Change the role of every device of user `userId` (hex user key). */
  setRole(userId: string, role: Role): Promise<void> {
    return this.changes.setRole(userId, role)
  }

  /**
   * Remove user `userId` (all devices and invites made for them), then rotate to a new epoch key
   * that they never receive, however they joined: the rotation first revokes every admission
   * whose secret they hold (the link they joined through). If the rotation cannot be appended
   * now it stays owed and the next admin online completes it.
   */
  unshare(userId: string): Promise<void> {
    return this.changes.unshare(userId)
  }

  /** Remove one device (a lost laptop) from this document and rotate. */
  removeDevice(deviceId: string): Promise<void> {
    return this.changes.removeDevice(deviceId)
  }

  /** Leave the document (sets this device's own role to none). */
  leave(): Promise<void> {
    return this.changes.leave()
  }

  /**
   * Start a new key epoch: a fresh random secret sealed to every remaining member's device key
   * (hybrid X25519 + ML-KEM-768), wrapped for invites still usable at the rotation's time that
   * this admin can read, and sealed to the recovery key. Invites whose secret a removed member
   * may hold are revoked first (see `exposedAdmissions`). With `onlyIfOwed`, nothing happens
   * unless a removal is still unrotated (another admin may have rotated meanwhile).
   */
  rotate(onlyIfOwed = false): Promise<void> {
    return this.changes.rotate(onlyIfOwed)
  }
}
