import * as Y from 'yjs'
import { updateClients } from './client-ids.js'
import { coalesceUpdates } from './coalesce.js'
import type { DocumentCrypto } from './crypto-seam.js'
import type { LoadedState } from './local-cache.js'
import type { LocalStore, QueuedEnvelope } from './local-store.js'
import { equalBytes } from './snapshot.js'

/** What {@link Outbox} needs from its binding. */
export interface OutboxDeps {
  readonly doc: Y.Doc
  readonly crypto: DocumentCrypto
  readonly store: LocalStore | undefined
  /** A storage write that nobody awaits failed. */
  readonly error: (e: unknown) => void
}

/** A queued envelope with what the binding still needs once the relay acknowledges it. */
interface Entry {
  readonly envelope: QueuedEnvelope
  /** Its plaintext: merged before sealing, recorded for compaction once acknowledged. */
  readonly plaintext: Uint8Array
  /** Yjs client ids it carries: bound to the local author on ack. */
  readonly clients: number[]
  /**
   * How often it was handed to a transport. One handed out may be stored even without an ack
   * (the ack, or the connection, was lost), so it is never merged into another envelope: that
   * copy would be stored a second time.
   */
  sends: number
}

/**
 * The local author's side of the log: edits from the moment their batch closes until the relay
 * acknowledges them. It hands out author counters, seals batches (or holds them while the member
 * may not write), keeps the sealed envelopes in the offline queue (persisted before they are
 * announced), merges never-sent ones and reseals refused ones. Callers serialize its
 * asynchronous methods with every other sealing and opening of the binding.
 */
export class Outbox {
  private readonly queue = new Map<number, Entry>()
  /** Edits made while not a writer, kept in memory until the membership allows them. */
  private held: Uint8Array[] = []
  /** Batches handed to sealing but not yet queued: still unsynced while crypto runs. */
  private sealing = 0
  private last = 0

  constructor(private readonly deps: OutboxDeps) {}

  /** Local changes not yet acknowledged: queued, being sealed, or held (as one). */
  get unsynced(): number {
    return this.queue.size + this.sealing + (this.held.length > 0 ? 1 : 0)
  }

  /** Number of queued envelopes. */
  get size(): number {
    return this.queue.size
  }

  /** The local author's last used counter. */
  get counter(): number {
    return this.last
  }

  /** The local author's `counter` was seen elsewhere (log, checkpoint, tab): never reuse it. */
  observe(counter: number): void {
    if (counter > this.last) this.last = counter
  }

  /** Queued envelopes, oldest first. */
  pending(): QueuedEnvelope[] {
    return [...this.queue.values()].map((q) => q.envelope).sort((a, b) => a.counter - b.counter)
  }

  /** Whether `sealed` is exactly the queued envelope `counter`. */
  holds(counter: number, sealed: Uint8Array): boolean {
    const q = this.queue.get(counter)
    return q !== undefined && equalBytes(q.envelope.sealed, sealed)
  }

  /** Count a batch as being sealed; the returned function settles it (idempotent). */
  sealingStarted(): () => void {
    this.sealing++
    let counted = true
    return () => {
      if (counted) this.sealing--
      counted = false
    }
  }

  /**
   * Seal `update` under the next counter, persist it and queue it. Resolves with the envelope,
   * or undefined if the member may not write: the update is held (the membership may simply not
   * be loaded yet) until {@link takeHeld}.
   */
  async add(update: Uint8Array): Promise<QueuedEnvelope | undefined> {
    if (!this.deps.crypto.canWrite()) {
      this.held.push(update)
      return undefined
    }
    const counter = this.next()
    const e = { counter, sealed: await this.deps.crypto.seal('update', update, counter) }
    await this.deps.store?.enqueue(e)
    this.put(e, update, updateClients(update), 0)
    return e
  }

  /** The held edits as one update, once the member may write; undefined otherwise. */
  takeHeld(): Uint8Array | undefined {
    if (this.held.length === 0 || !this.deps.crypto.canWrite()) return undefined
    const held = this.held
    this.held = []
    return held.length === 1 ? (held[0] as Uint8Array) : Y.mergeUpdates(held)
  }

  /** See `EncryptedDoc.markSent`. */
  markSent(counter: number): number {
    const q = this.queue.get(counter)
    if (q === undefined) return 0
    q.sends += 1
    return q.sends
  }

  /**
   * The relay acknowledged `counter`: it leaves the queue (and storage). Returns its plaintext
   * and client ids, or undefined if it was not queued.
   */
  take(counter: number): { plaintext: Uint8Array; clients: number[] } | undefined {
    const q = this.queue.get(counter)
    if (q === undefined) return undefined
    this.queue.delete(counter)
    this.deps.store?.dequeue(counter).catch(this.deps.error)
    return { plaintext: q.plaintext, clients: q.clients }
  }

  /** See `EncryptedDoc.reseal`. */
  async reseal(counter: number): Promise<QueuedEnvelope | undefined> {
    const old = this.queue.get(counter)
    if (old === undefined) return undefined
    const { plaintext } = await this.deps.crypto.open('update', old.envelope.sealed)
    const next = this.next()
    const fresh = { counter: next, sealed: await this.deps.crypto.seal('update', plaintext, next) }
    await this.deps.store?.enqueue(fresh)
    await this.deps.store?.dequeue(counter)
    // Read again: an ack while crypto ran took it (and its client ids) already.
    const clients = this.queue.get(counter)?.clients ?? []
    this.queue.delete(counter)
    this.put(fresh, plaintext, clients, 0)
    return fresh
  }

  /** See `EncryptedDoc.coalesce`. Resolves with the merged envelope, or undefined. */
  async coalesce(counters: readonly number[]): Promise<QueuedEnvelope | undefined> {
    const olds = counters.filter((c) => this.queue.get(c)?.sends === 0)
    if (olds.length < 2) return undefined
    const update = coalesceUpdates(
      this.deps.doc,
      olds.map((c) => (this.queue.get(c) as Entry).plaintext),
    )
    const counter = this.next()
    const fresh = { counter, sealed: await this.deps.crypto.seal('update', update, counter) }
    await this.deps.store?.enqueue(fresh)
    const clients = new Set<number>()
    for (const c of olds) {
      for (const id of this.queue.get(c)?.clients ?? []) clients.add(id)
      this.queue.delete(c)
    }
    await Promise.all(olds.map((c) => this.deps.store?.dequeue(c)))
    this.put(fresh, update, [...clients], 0)
    return fresh
  }

  /**
   * Queue again what an earlier session left queued (already applied to the document). Each
   * envelope may have been sent before the restart: never merged, never resealed unchecked.
   */
  async restore(queued: LoadedState['queued']): Promise<void> {
    const twins: { plaintext: Uint8Array; segment: string }[] = []
    for (const { envelope, plaintext } of queued) {
      const { segment, ...e } = envelope
      this.observe(e.counter)
      if (this.queue.has(e.counter)) {
        twins.push({ plaintext, segment })
        continue
      }
      this.deps.store?.adopt(e.counter, segment)
      this.put(e, plaintext, updateClients(plaintext), 1)
    }
    // Another binding of this member (a second tab on the same store) queued the same counter:
    // both edits are kept, the twin under a fresh counter. If its tab had already stored it the
    // log holds that update twice, which Yjs applies once; dropping it could lose the edit.
    for (const { plaintext, segment } of twins) {
      if (!this.deps.crypto.canWrite()) {
        // Membership not loaded yet: sealed once it allows (the stored twin stays until then).
        this.held.push(plaintext)
        continue
      }
      const counter = this.next()
      const e = { counter, sealed: await this.deps.crypto.seal('update', plaintext, counter) }
      await this.deps.store?.enqueue(e)
      await this.deps.store?.drop(segment)
      this.put(e, plaintext, updateClients(plaintext), 0)
    }
  }

  private put(envelope: QueuedEnvelope, plaintext: Uint8Array, clients: number[], sends: number) {
    this.queue.set(envelope.counter, { envelope, plaintext, clients, sends })
  }

  private next(): number {
    this.last += 1
    return this.last
  }
}
