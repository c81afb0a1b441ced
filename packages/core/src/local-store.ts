import type { StorageAdapter } from '@valv/storage'

const pad = (n: number) => n.toString().padStart(12, '0')

/**
 * Delete this device's local cache of `docId` (offline queue, sealed state, checkpoint) from
 * `storage`: part of erasing a document on a device (`eraseDocument` of `@valv/compliance`
 * also shreds the keys). Idempotent.
 *
 * @example
 * ```ts
 * await eraseLocalCache(new IndexedDBStorageAdapter({ dbName: 'valv' }), docId)
 * ```
 */
export async function eraseLocalCache(storage: StorageAdapter, docId: string): Promise<void> {
  await storage.deletePrefix(['valv', docId])
}

/** One sealed, not yet acknowledged update in the offline queue. */
export interface QueuedEnvelope {
  /** The local author's counter of this envelope. */
  readonly counter: number
  /** The sealed bytes exactly as sent to the relay. */
  readonly sealed: Uint8Array
}

/**
 * The binding's local persistence through a `StorageAdapter`. Everything stored is sealed with
 * the document key (queue entries, the local state cache, the checkpoint), so local storage
 * holds no plaintext either. Layout: `valv/<docId>/q/<counter>`, `…/state` (the compacted
 * state), `…/u/<n>` (updates appended since, as y-indexeddb does), `…/cp`.
 */
export class LocalStore {
  constructor(
    private readonly storage: StorageAdapter,
    private readonly docId: string,
  ) {}

  /** Persist an envelope before it is sent, so it survives a reload. */
  enqueue(e: QueuedEnvelope): Promise<void> {
    return this.storage.put(['valv', this.docId, 'q', pad(e.counter)], e.sealed)
  }

  /** Drop an acknowledged envelope. */
  dequeue(counter: number): Promise<void> {
    return this.storage.delete(['valv', this.docId, 'q', pad(counter)])
  }

  /** Every queued envelope, oldest first. */
  async queued(): Promise<QueuedEnvelope[]> {
    const out: QueuedEnvelope[] = []
    for await (const { key, value } of this.storage.list({ prefix: ['valv', this.docId, 'q'] })) {
      out.push({ counter: Number(key[key.length - 1]), sealed: value })
    }
    return out
  }

  /** Read a sealed blob (`state` or `cp`). */
  read(name: 'state' | 'cp'): Promise<Uint8Array | undefined> {
    return this.storage.get(['valv', this.docId, name])
  }

  /** Replace a sealed blob (`state` or `cp`). */
  write(name: 'state' | 'cp', sealed: Uint8Array): Promise<void> {
    return this.storage.put(['valv', this.docId, name], sealed)
  }

  /** Append one sealed update chunk as number `n` (applied after `state`, in order). */
  append(n: number, sealed: Uint8Array): Promise<void> {
    return this.storage.put(['valv', this.docId, 'u', pad(n)], sealed)
  }

  /** Every appended chunk, oldest first, with its number. */
  async appended(): Promise<Array<{ n: number; sealed: Uint8Array }>> {
    const out: Array<{ n: number; sealed: Uint8Array }> = []
    for await (const { key, value } of this.storage.list({ prefix: ['valv', this.docId, 'u'] })) {
      out.push({ n: Number(key[key.length - 1]), sealed: value })
    }
    return out.sort((a, b) => a.n - b.n)
  }

  /**
   * Replace the compacted state and drop the appended chunks it now contains. The state is
   * written first: a crash in between leaves chunks that apply again harmlessly (Yjs updates
   * are idempotent), never a state that lacks them.
   */
  async compact(sealedState: Uint8Array): Promise<void> {
    await this.storage.put(['valv', this.docId, 'state'], sealedState)
    await this.storage.deletePrefix(['valv', this.docId, 'u'])
  }
}
