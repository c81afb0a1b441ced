import type { ObservableV2 } from 'lib0/observable'
import type * as Y from 'yjs'
import type { DocumentCrypto, Opened } from './crypto-seam.js'
import type { EncryptedDocEvents, ReceiveResult } from './encrypted-doc.js'
import { CoreError } from './errors.js'
import type { LogPosition } from './log-position.js'
import { invalidUpdate } from './misbehaviour.js'
import type { Outbox } from './outbox.js'
import { inspectUpdate, type RemoteApplier } from './remote-update.js'
import type { SnapshotSync } from './snapshot-sync.js'

/** What {@link Inbox} needs from its binding. */
export interface InboxDeps {
  readonly doc: Y.Doc
  readonly crypto: DocumentCrypto
  readonly position: LogPosition
  readonly outbox: Outbox
  readonly applier: RemoteApplier
  /** Where applied relay updates are recorded for the next snapshot. */
  readonly snapshots: SnapshotSync
  /** The local envelope `counter` turned out stored as `seq`. */
  readonly acknowledge: (counter: number, seq: number) => void
  /** Something the local checkpoint or state cache holds changed. */
  readonly changed: () => void
  /** Where `rejected` and `misbehaviour` are reported: the binding. */
  readonly events: ObservableV2<EncryptedDocEvents>
}

/**
 * The incoming path of updates: verify and decrypt (through the crypto seam), check the content
 * against the Yjs client ids bound so far, and only then apply. Refusals are reported as
 * `rejected` and `misbehaviour`; what the relay delivered is consumed either way, so the
 * position in the log and the authors' heads move past it. Callers serialize its methods with
 * every other sealing and opening of the binding.
 */
export class Inbox {
  constructor(private readonly deps: InboxDeps) {}

  /** See `EncryptedDoc.receiveUpdate`. */
  async receive(sealed: Uint8Array, seq: number, origin: object): Promise<ReceiveResult> {
    const { crypto, position } = this.deps
    if (position.has(seq)) return 'duplicate'
    let opened: Opened
    try {
      opened = await crypto.open('update', sealed)
    } catch (error) {
      position.mark(seq)
      this.deps.events.emit('rejected', [{ kind: 'update', error }])
      this.deps.events.emit('misbehaviour', [invalidUpdate(error, seq)])
      return 'rejected'
    }
    const { author, counter } = opened
    if (author === crypto.author && this.deps.outbox.holds(counter, sealed)) {
      // Our queued envelope, stored though its ack was lost: this delivery acknowledges it.
      this.deps.acknowledge(counter, seq)
      return 'applied'
    }
    if (position.replayed(author, counter, seq)) {
      position.mark(seq)
      this.deps.events.emit('misbehaviour', [
        {
          kind: 'replay',
          message: 'author counter delivered again',
          author,
          counter,
          seq,
        },
      ])
      return 'rejected'
    }
    const ids = position.clientIds
    let clients: Set<number>
    try {
      clients = inspectUpdate(this.deps.doc, opened.plaintext)
    } catch (error) {
      return this.poisoned(seq, author, counter, error, 'update is not a valid Yjs update')
    }
    const refused = ids.refuse(author, clients)
    if (refused !== undefined) {
      const why =
        refused === 'too-many'
          ? 'update binds more Yjs client ids than an author may'
          : `update inserts under Yjs client id ${refused}, bound to another member`
      const error = new CoreError('malformed', why)
      return this.poisoned(seq, author, counter, error, why, refused)
    }
    const outcome = this.deps.applier.apply(opened.plaintext, origin)
    if (!outcome.applied) {
      return this.poisoned(seq, author, counter, outcome.error, 'update failed to integrate')
    }
    ids.bind(author, clients)
    this.deps.snapshots.record(seq, author, counter, opened.plaintext, clients)
    this.consumed(seq, author, counter)
    return 'applied'
  }

  /** See `EncryptedDoc.receiveDirect`. */
  async receiveDirect(
    kind: 'update' | 'state',
    sealed: Uint8Array,
    origin: object,
  ): Promise<boolean> {
    const { crypto, position } = this.deps
    try {
      const opened = await crypto.open(kind, sealed)
      const clients = inspectUpdate(this.deps.doc, opened.plaintext)
      // A tab's `state` diff carries everyone's content; an `update` only its signer's.
      if (kind === 'update' && position.clientIds.refuse(opened.author, clients) !== undefined) {
        throw new CoreError('malformed', 'update inserts under a client id bound to another')
      }
      const outcome = this.deps.applier.apply(opened.plaintext, origin)
      if (!outcome.applied) throw outcome.error
      if (kind === 'update' && opened.author === crypto.author) {
        this.deps.outbox.observe(opened.counter)
      }
      this.deps.changed()
      return true
    } catch (error) {
      this.deps.events.emit('rejected', [{ kind, error }])
      return false
    }
  }

  /** `seq` is done with: the author's counter is counted as received, the checkpoint moves. */
  private consumed(seq: number, author: string, counter: number): void {
    this.deps.position.count(author, counter, seq)
    if (author === this.deps.crypto.author) this.deps.outbox.observe(counter)
    this.deps.position.mark(seq)
    this.deps.changed()
  }

  /**
   * A verified envelope whose content is refused (not valid Yjs, or inserting in another
   * member's name): skipped whole, yet consumed, so no reader waits for it or resyncs it, and
   * the signer's counter counts as received, so its heads accuse nobody of withholding.
   */
  private poisoned(
    seq: number,
    author: string,
    counter: number,
    error: unknown,
    message: string,
    refused?: number | 'too-many',
  ): ReceiveResult {
    this.consumed(seq, author, counter)
    this.deps.events.emit('rejected', [{ kind: 'update', error }])
    const impersonation = typeof refused === 'number'
    this.deps.events.emit('misbehaviour', [
      {
        kind: impersonation ? 'impersonation' : 'malformed-update',
        message,
        author,
        counter,
        seq,
        ...(impersonation ? { clientId: refused } : {}),
      },
    ])
    return 'rejected'
  }
}
