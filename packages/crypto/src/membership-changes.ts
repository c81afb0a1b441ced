import { ed25519 } from '@noble/curves/ed25519.js'
import {
  admissionUsable,
  CryptoError,
  domainMessage,
  Role,
  toHex,
  u64Bytes,
  utf8,
} from '@valv/protocol'
import { epochKeys } from './bundle.js'
import { PublicCard } from './card.js'
import type { DocumentKey } from './document-key.js'
import { buildEntry, nowSeconds } from './entry-builder.js'
import { entryParts } from './entry-parts.js'
import { exposedAdmissions } from './exposure.js'
import type { Identity } from './identity.js'
import { admissionKeys, encodeInvite } from './invite.js'
import { listInvites, listMembers } from './membership-view.js'
import { keyCommitment } from './primitives/aead.js'
import { randomBytes } from './primitives/bytes.js'
import type { SessionChain } from './session-chain.js'
import type { InviteOptions, MembershipSink } from './session-options.js'

const isConflict = (err: unknown): boolean => {
  const e = err as { code?: string; relayCode?: string }
  return e.code === 'membership-conflict' || e.relayCode === 'membership-conflict'
}

/**
 * The membership entries a session writes: its own join, and an admin's shares, invites,
 * role changes, removals and rotations. Each is built at the chain's head and appended through
 * the {@link MembershipSink} with compare-and-append, rebuilt when another admin got there
 * first. A removal is followed by a rotation, here or by the next admin online (`afterEntry`).
 * `DocumentSession` delegates its membership methods here; their documentation is there.
 */
export class MembershipChanges {
  private sink: MembershipSink | undefined
  /** Entries built before a sink was attached (a new document's genesis). */
  private readonly unsent: Array<[number, Uint8Array]> = []
  private joining: Promise<void> | undefined
  private rotating = false
  /** Changes in progress that end in their own rotation: no automatic one meanwhile. */
  private changing = 0

  constructor(
    private readonly chain: SessionChain,
    private readonly key: DocumentKey,
    private readonly me: Identity | undefined,
  ) {}

  /** Keep entry `index` to send once a sink is attached. */
  queue(index: number, bytes: Uint8Array): void {
    this.unsent.push([index, bytes])
  }

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

  async joined(): Promise<void> {
    if (this.chain.myIndex !== undefined) {
      if (this.chain.role === Role.None)
        throw new CryptoError('not-authorised', 'removed from this document')
      return
    }
    this.maybeJoin()
    if (this.joining === undefined)
      throw new CryptoError('invalid-state', 'no admission to join with')
    await this.joining
  }

  /** After each new entry: join once an admission is known, rotate if a removal is owed. */
  afterEntry(): void {
    this.maybeJoin()
    this.maybeRotate()
  }

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
    const adm = admissionKeys(this.chain.docId, secret)
    const { state, ring } = this.chain
    await this.submit(() =>
      buildEntry(
        state,
        this.key.requireSecret(),
        {
          kind: 'admit',
          admissionKey: adm.publicKey,
          role,
          expiresAt: 0,
          maxUses: fresh.length,
        },
        (index) =>
          entryParts.admit(ring, state, index, secret, newcomers, this.key.requireSecret()),
      ),
    )
  }

  async createInviteLink(options: InviteOptions): Promise<string> {
    this.requireAdmin()
    const secret = randomBytes(32)
    const { docId, state, ring } = this.chain
    const adm = admissionKeys(docId, secret)
    const expires =
      options.expiresAt instanceof Date
        ? Math.floor(options.expiresAt.getTime() / 1000)
        : (options.expiresAt ?? 0)
    const maxUses = options.maxUses ?? (options.singleUse === true ? 1 : 0)
    const index = await this.submit(() =>
      buildEntry(
        state,
        this.key.requireSecret(),
        {
          kind: 'admit',
          admissionKey: adm.publicKey,
          role: options.role,
          expiresAt: expires,
          maxUses,
        },
        (i) => entryParts.admit(ring, state, i, secret, undefined, this.key.requireSecret()),
      ),
    )
    ring.admissions.set(index, secret)
    await this.chain.local.saveSecrets(ring)
    return encodeInvite({ docId, admission: index, secret })
  }

  async revokeInvite(admission: number): Promise<void> {
    this.requireAdmin()
    await this.whileChanging(() => this.revokeAdmission(admission))
    await this.rotate()
  }

  async setRole(userId: string, role: Role): Promise<void> {
    this.requireAdmin()
    const targets = this.members().filter((m) => m.userId === userId && m.role !== Role.None)
    if (targets.length === 0) throw new CryptoError('invalid-state', 'no such member')
    for (const t of targets) {
      await this.setRoleOf(t.index, role)
    }
  }

  async unshare(userId: string): Promise<void> {
    this.requireAdmin()
    const revoked = await this.whileChanging(() => this.removeUser(userId))
    // A revoked invite's holders hold the current epoch even if nobody was removed.
    await this.rotate(!revoked)
  }

  async removeDevice(deviceId: string): Promise<void> {
    this.requireAdmin()
    const t = this.members().find((m) => m.deviceId === deviceId && m.role !== Role.None)
    if (t === undefined) throw new CryptoError('invalid-state', 'no such device')
    await this.whileChanging(() => this.setRoleOf(t.index, Role.None))
    await this.rotate(true)
  }

  async leave(): Promise<void> {
    const i = this.chain.myIndex
    if (i === undefined) return
    await this.setRoleOf(i, Role.None)
  }

  async rotate(onlyIfOwed = false): Promise<void> {
    this.requireAdmin()
    const { docId, state, ring } = this.chain
    if (onlyIfOwed && !state.rotationOwed) return
    await this.whileChanging(async () => {
      for (const a of exposedAdmissions(state, nowSeconds())) await this.revokeAdmission(a)
    })
    const secret = randomBytes(32)
    await this.submit(() => {
      if (onlyIfOwed && !state.rotationOwed) return undefined
      const epoch = state.epoch + 1
      const keys = epochKeys(docId, epoch, secret)
      return buildEntry(
        state,
        this.key.requireSecret(),
        { kind: 'rotate', epoch, keyCommitment: keyCommitment(secret) },
        (index, at) => entryParts.rotate(ring, state, index, keys, at),
      )
    })
  }

  private members() {
    return listMembers(this.chain.state, this.chain.ring, this.chain.myIndex)
  }

  private requireAdmin(): void {
    if (this.chain.role !== Role.Admin)
      throw new CryptoError('not-authorised', 'only an admin can change membership')
  }

  /** Run `change`, which the caller follows with its own rotation: no automatic one meanwhile. */
  private async whileChanging<T>(change: () => Promise<T>): Promise<T> {
    this.changing++
    try {
      return await change()
    } finally {
      this.changing--
    }
  }

  /**
   * Build an entry at the current head and append it, rebuilding on a concurrent append. A
   * build that returns `undefined` (the change is no longer needed) appends nothing.
   */
  private async submit(build: () => Uint8Array | undefined): Promise<number> {
    const sink = this.sink
    if (sink === undefined) throw new CryptoError('invalid-state', 'attach a provider first')
    const chain = this.chain
    for (let attempt = 0; ; attempt++) {
      if (chain.relayFault !== undefined) throw chain.relayFault
      const index = chain.state.length
      const bytes = build()
      if (bytes === undefined) return -1
      try {
        await sink.appendMembership(index, bytes)
        if (chain.state.length === index) await chain.applyMembership(index, bytes)
        return index
      } catch (err) {
        if (chain.relayFault !== undefined) throw chain.relayFault
        if (!isConflict(err) || attempt >= 8) throw err
        // The relay says the head moved, so the entry that moved it must arrive; if it does
        // not, the relay's chain is not the one verified here (rolled back or withheld).
        if (!(await chain.waitForLength(index + 1))) {
          throw new CryptoError(
            'rollback-detected',
            `the relay refused entry ${index} but sent no other entry ${index}`,
          )
        }
      }
    }
  }

  /** Append a set-role entry, recording the member's counter high-water mark. */
  private setRoleOf(member: number, role: Role): Promise<number> {
    const until = this.chain.highest.get(member) ?? 0
    return this.submit(() =>
      buildEntry(
        this.chain.state,
        this.key.requireSecret(),
        { kind: 'set-role', member, role, until },
        () => [],
      ),
    )
  }

  /** Append a revoke-admission entry, unless it is revoked already. */
  private revokeAdmission(admission: number): Promise<number> {
    const state = this.chain.state
    return this.submit(() =>
      state.admission(admission)?.revoked === true
        ? undefined
        : buildEntry(
            state,
            this.key.requireSecret(),
            { kind: 'revoke-admission', admission },
            () => [],
          ),
    )
  }

  /** Revoke the user's invites and remove its devices; returns whether an invite was revoked. */
  private async removeUser(userId: string): Promise<boolean> {
    const now = nowSeconds()
    const invites = listInvites(this.chain.state, this.chain.ring, now).filter(
      (i) => i.forUser === userId,
    )
    for (const inv of invites) await this.revokeAdmission(inv.admission)
    const targets = this.members().filter((m) => m.userId === userId && m.role !== Role.None)
    for (const t of targets) {
      await this.setRoleOf(t.index, Role.None)
    }
    return invites.length > 0
  }

  private maybeRotate(): void {
    if (!this.chain.state.rotationOwed || this.rotating || this.changing > 0) return
    if (this.sink === undefined || this.chain.role !== Role.Admin) return
    this.rotating = true
    void this.rotate(true)
      .catch(() => undefined)
      .finally(() => {
        this.rotating = false
      })
  }

  private maybeJoin(): void {
    const { docId, state, ring } = this.chain
    if (
      this.joining !== undefined ||
      this.sink === undefined ||
      this.me === undefined ||
      this.chain.myIndex !== undefined
    )
      return
    const now = nowSeconds()
    const admission = [...ring.admissions.keys()].find((a) => {
      const adm = state.admission(a)
      return adm !== undefined && admissionUsable(adm, now)
    })
    if (admission === undefined) return
    const me = this.me
    const secret = ring.admissions.get(admission) as Uint8Array
    this.joining = this.submit(() => {
      const adm = admissionKeys(docId, secret)
      const signer = this.key.publicKey as Uint8Array
      const admissionSignature = ed25519.sign(
        domainMessage('admission', utf8(docId), u64Bytes(admission), signer),
        adm.signingSecret,
      )
      return buildEntry(
        state,
        this.key.requireSecret(),
        { kind: 'join', admission, admissionSignature },
        (index) => entryParts.join(ring, state, index, me, signer),
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
