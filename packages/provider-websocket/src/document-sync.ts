import type { EncryptedDoc, Misbehaviour } from '@valv/core'
import type { Frame } from '@valv/wire'
import type { BackoffOptions } from './backoff.js'
import { Compactor } from './compactor.js'
import { WebsocketProviderError } from './errors.js'
import { SendQueue } from './send-queue.js'

/** What the sync protocol needs from its provider. */
export interface SyncHost {
  readonly binding: EncryptedDoc
  /** Transaction origin of relay updates applied to the document (the provider). */
  readonly origin: object
  /** Whether the connection told the document to subscribe. */
  isOpen(): boolean
  /** Counts sockets: work started on one must not act on the next. */
  epoch(): number
  send(frame: Frame): void
  misbehaviour(m: Misbehaviour): void
  fail(e: unknown): void
  /** The document caught up for the first time on this socket (emit `synced`, start presence). */
  announce(): void
}

/** Timing and limits of {@link DocumentSync}. */
export interface SyncOptions {
  /** Upload a snapshot once this many relay updates follow the last one (0 = never). */
  readonly compactAfter: number
  /** Envelopes sent and not yet acknowledged at most. */
  readonly maxInFlight: number
  /** Retry timing after the relay's storage failed. */
  readonly backoff?: BackoffOptions
}

/** A `membership` frame: one chain entry from the relay. */
export type MembershipFrame = Extract<Frame, { type: 'membership' }>

type MembershipAppend = {
  readonly index: number
  readonly entry: Uint8Array
  readonly resolve: () => void
  readonly reject: (e: Error) => void
}

/**
 * The per-document sync protocol on one socket: subscribe from the last sequence number held,
 * apply the backlog and live deliveries, membership entries and snapshots, notice gaps and
 * re-read the log, and route the relay's acks and refusals to the request they answer (the
 * {@link SendQueue} for updates, the {@link Compactor} for snapshots, membership appends here).
 */
export class DocumentSync {
  /** Whether the document is caught up with the relay on the current socket. */
  synced = false
  private announcedFlag = false
  /** Membership entries the relay proved it holds in the current subscription. */
  private membershipSeen = 0
  private nextRef = 1
  private readonly appends = new Map<number, MembershipAppend>()
  private resyncTimer: ReturnType<typeof setTimeout> | undefined
  private readonly sends: SendQueue
  private readonly compactor: Compactor

  constructor(
    private readonly host: SyncHost,
    options: SyncOptions,
  ) {
    const common = {
      binding: host.binding,
      isSynced: () => this.synced,
      nextRef: () => this.nextRef++,
      send: (f: Frame) => host.send(f),
      resync: () => this.resync(),
      fail: (e: unknown) => host.fail(e),
    }
    this.sends = new SendQueue(
      {
        ...common,
        isOpen: () => host.isOpen(),
        epoch: () => host.epoch(),
        afterSeq: () => this.afterSeq(),
      },
      options.maxInFlight,
      options.backoff,
    )
    this.compactor = new Compactor(common, options.compactAfter)
  }

  /** Whether `synced` was announced on the current socket (a resync does not repeat it). */
  get announced(): boolean {
    return this.announcedFlag
  }

  /** Subscribe from what the binding holds (on every new socket, and to re-read the log). */
  subscribe(): void {
    const b = this.host.binding
    // Ask again for the newest entry known: a relay that still has the chain sends it, one
    // that lost it (restored from a backup) cannot (see onSynced).
    this.membershipSeen = 0
    this.host.send({
      type: 'subscribe',
      docId: b.docId,
      sinceSeq: b.lastSeq,
      snapshotSeq: b.snapshotSeq,
      membershipFrom: Math.max(0, (b.crypto.membershipLength?.() ?? 0) - 1),
    })
  }

  /** Handle a frame of this document (presence and listeners are the provider's). */
  async handle(f: Frame): Promise<void> {
    const b = this.host.binding
    switch (f.type) {
      case 'membership':
        return this.membership([f])
      case 'snapshot':
        if (f.confirmed) {
          await b.receiveSnapshot(f.snapshot, f.upToSeq, this.host.origin, f.confirmation)
        } else await this.compactor.review(f.snapshot, f.upToSeq)
        return
      case 'snapshot-confirm':
        await b.confirmationReceived(f.upToSeq, f.confirmation)
        return
      case 'deliver':
        await b.receiveUpdate(f.envelope, f.seq, this.host.origin)
        this.afterSeq()
        return
      case 'synced':
        return this.onSynced(f.headSeq)
      case 'ack':
        return this.onAck(f.ref, f.seq)
      case 'error':
        return this.onReject(f.ref, f.code, f.message)
      default:
        return
    }
  }

  /**
   * Apply membership frames that arrived together, in index order: consecutive ones in one call
   * (`applyMembershipMany`: a first join into a long chain verifies them in parallel).
   */
  async membership(frames: readonly MembershipFrame[]): Promise<void> {
    const crypto = this.host.binding.crypto
    for (const f of frames) this.membershipSeen = Math.max(this.membershipSeen, f.index + 1)
    const first = frames[0]
    const consecutive = frames.every((f, i) => f.index === (first?.index ?? 0) + i)
    try {
      if (first === undefined) return
      if (frames.length > 1 && consecutive && crypto.applyMembershipMany !== undefined) {
        await crypto.applyMembershipMany(
          first.index,
          frames.map((f) => f.entry),
        )
      } else {
        for (const f of frames) await crypto.applyMembership?.(f.index, f.entry)
      }
    } catch (e) {
      // A different entry where one was verified: the relay forked the chain.
      if ((e as { code?: string }).code !== 'fork-detected') throw e
      this.host.misbehaviour({ kind: 'fork', message: (e as Error).message })
    }
    // Held edits go out on their own: the binding listens to `DocumentCrypto.onChange`.
  }

  /** Send what the binding queued (a new local envelope, or the queue after a reconnect). */
  pump(): void {
    this.sends.pump()
  }

  /**
   * Append a signed membership entry at `index`; resolves once the relay made it durable.
   * The caller checked that the document is synced.
   */
  appendMembership(index: number, entry: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      const ref = this.nextRef++
      this.appends.set(ref, { index, entry, resolve, reject })
      this.host.send({
        type: 'membership-append',
        docId: this.host.binding.docId,
        ref,
        index,
        entry,
      })
    })
  }

  /** Re-read the log from the last contiguous sequence number (after a gap or withholding). */
  resync(): void {
    if (!this.synced) return
    this.synced = false
    this.host.send({ type: 'unsubscribe', docId: this.host.binding.docId })
    this.subscribe()
  }

  /**
   * The socket closed with `code`: every request in flight is void (membership appends are
   * rejected). Returns whether `synced` had been announced on it.
   */
  reset(code: number): boolean {
    const wasAnnounced = this.announcedFlag
    this.synced = false
    this.announcedFlag = false
    this.compactor.reset()
    this.sends.reset()
    for (const p of this.appends.values()) {
      p.reject(new WebsocketProviderError('closed', 'connection closed', { closeCode: code }))
    }
    this.appends.clear()
    return wasAnnounced
  }

  /** Stop timers. */
  destroy(): void {
    if (this.resyncTimer !== undefined) clearTimeout(this.resyncTimer)
    this.sends.destroy()
  }

  private onSynced(headSeq: number): void {
    try {
      this.host.binding.crypto.membershipSynced?.(this.membershipSeen)
    } catch (e) {
      // The relay's membership chain is older than the one verified: the session keeps its own
      // and refuses membership changes; content still syncs, checked against the verified chain.
      this.host.misbehaviour({ kind: 'rollback', message: (e as Error).message })
    }
    this.host.binding.checkHead(headSeq)
    this.synced = true
    this.sends.synced()
    if (!this.announcedFlag) {
      // A resync after a gap or withholding does not announce `synced` a second time.
      this.announcedFlag = true
      this.host.announce()
    }
    this.afterSeq()
  }

  private onAck(ref: number, seq: number): void {
    if (this.sends.ack(ref, seq) || this.compactor.ack(ref)) return
    const p = this.appends.get(ref)
    if (p === undefined) return
    this.appends.delete(ref)
    // The relay forwards an entry to the other subscribers only; learn our own here.
    const crypto = this.host.binding.crypto
    void (crypto.applyMembership?.(p.index, p.entry) ?? Promise.resolve()).then(
      () => p.resolve(),
      p.reject,
    )
  }

  private async onReject(ref: number, code: string, message: string): Promise<void> {
    const err = new WebsocketProviderError('rejected', `relay rejected: ${code} (${message})`, {
      relayCode: code,
    })
    const append = this.appends.get(ref)
    if (append !== undefined) {
      this.appends.delete(ref)
      append.reject(err)
      return
    }
    const handled = (await this.sends.reject(ref, code)) ?? this.compactor.reject(ref, code)
    if (handled !== true) this.host.fail(err)
  }

  private afterSeq(): void {
    if (!this.synced) return
    if (this.host.binding.hasGap && this.resyncTimer === undefined) {
      // Deliveries arrive in order; a hole that persists means something was skipped.
      this.resyncTimer = setTimeout(() => {
        this.resyncTimer = undefined
        if (this.host.binding.hasGap) this.resync()
      }, 250)
    }
    this.compactor.check()
  }
}
