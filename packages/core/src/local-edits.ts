import type { ObservableV2 } from 'lib0/observable'
import type * as Y from 'yjs'
import { Batcher, type BatchOptions } from './batcher.js'
import type { EncryptedDocEvents } from './encrypted-doc.js'
import { CoreError } from './errors.js'
import type { Outbox } from './outbox.js'
import type { RemoteApplier } from './remote-update.js'

/** What {@link LocalEdits} needs from its binding. */
export interface LocalEditsDeps {
  readonly doc: Y.Doc
  readonly applier: RemoteApplier
  readonly outbox: Outbox
  readonly batch: BatchOptions | undefined
  /** Run `fn` after every sealing and opening the binding started before (its one chain). */
  readonly serial: (fn: () => Promise<void>) => Promise<void>
  /** Where `envelope`, `unsynced` and `error` are reported: the binding. */
  readonly events: ObservableV2<EncryptedDocEvents>
}

/**
 * The way in for local edits: every `update` of the document that no transport applied is
 * batched, and each closed batch is sealed into the {@link Outbox}. It keeps the count of
 * unacknowledged local changes exact while the batch window, the sealing and the queue hand an
 * edit on: applications wait for 0 before they tell a user that everything is saved.
 */
export class LocalEdits {
  private readonly batcher: Batcher

  constructor(private readonly deps: LocalEditsDeps) {
    this.batcher = new Batcher(deps.doc, (u) => this.seal(u), deps.batch)
    deps.doc.on('update', this.onUpdate)
  }

  /** Local changes not yet acknowledged, the open batch window included (as one). */
  get unsynced(): number {
    return this.deps.outbox.unsynced + (this.batcher.size > 0 ? 1 : 0)
  }

  /** Close the batch window now. */
  drain(): void {
    this.batcher.drain()
  }

  /** Seal the edits held back while the member could not write, if it now may. */
  retryHeld(): void {
    const held = this.deps.outbox.takeHeld()
    if (held !== undefined) void this.seal(held)
  }

  /** Seal what the batch window holds and stop listening to the document. */
  destroy(): void {
    this.batcher.drain()
    this.deps.doc.off('update', this.onUpdate)
  }

  private readonly onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (this.deps.applier.isRemote(origin)) return
    const before = this.unsynced
    this.batcher.push(update)
    if (this.unsynced !== before) this.deps.events.emit('unsynced', [this.unsynced])
  }

  private seal(update: Uint8Array): Promise<void> {
    // Counted as unsynced from the moment the window closes until it is queued (or held):
    // sealing is asynchronous, and a count of 0 must mean "everything is durable".
    const settle = this.deps.outbox.sealingStarted()
    return this.deps
      .serial(async () => {
        const e = await this.deps.outbox.add(update)
        settle()
        if (e === undefined) {
          this.deps.events.emit('error', [
            new CoreError('not-a-writer', 'local edit held: not a writer'),
          ])
          return
        }
        this.deps.events.emit('envelope', [e])
        this.deps.events.emit('unsynced', [this.unsynced])
      })
      .catch((err) => {
        settle()
        this.deps.events.emit('error', [err])
      })
  }
}
