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

/** A queued envelope as found in storage, with the key segment it is stored under. */
export interface StoredEnvelope extends QueuedEnvelope {
  /** Last key segment: `<counter>` (older layout) or `<counter>-<writer tag>`. */
  readonly segment: string
}

/** A random tag for the queue entries of one binding. */
function writerTag(): string {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(6))
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
}

/**
 * The binding's local persistence through a `StorageAdapter`. Everything stored is sealed with
 * the document key (queue entries, the local state cache, the checkpoint), so local storage
 * holds no plaintext either. Layout: `valv/<docId>/q/<counter>-<tag>`, `…/state/<tag>` (the
 * compacted state), `…/u/<n>-<tag>` (updates appended since, as y-indexeddb does), `…/cp`.
 * `<tag>` is random per binding: two tabs of one member on one store never overwrite or delete
 * each other's entries (a reader applies all of them; Yjs updates merge).
 */
export class LocalStore {
  /**
   * Marks the queue entries this binding writes. Two bindings of one member on one store (two
   * browser tabs of a profile) seal under one author index and may pick the same counter before
   * either hears of the other; keyed by counter alone, the later entry replaced the earlier one
   * and that edit was lost once both tabs closed offline.
   */
  private readonly tag = writerTag()
  /** Key segment of each queued counter this binding owns (written or adopted at load). */
  private readonly segments = new Map<number, string>()

  constructor(
    private readonly storage: StorageAdapter,
    private readonly docId: string,
  ) {}

  /** Persist an envelope before it is sent, so it survives a reload. */
  enqueue(e: QueuedEnvelope): Promise<void> {
    const segment = `${pad(e.counter)}-${this.tag}`
    this.segments.set(e.counter, segment)
    return this.storage.put(['valv', this.docId, 'q', segment], e.sealed)
  }

  /** Drop an acknowledged envelope. */
  dequeue(counter: number): Promise<void> {
    const segment = this.segments.get(counter) ?? pad(counter)
    this.segments.delete(counter)
    return this.storage.delete(['valv', this.docId, 'q', segment])
  }

  /** Make the entry at `segment` (from {@link queued}) this binding's queued `counter`. */
  adopt(counter: number, segment: string): void {
    this.segments.set(counter, segment)
  }

  /** Delete the entry at `segment` (one resealed under another counter). */
  drop(segment: string): Promise<void> {
    return this.storage.delete(['valv', this.docId, 'q', segment])
  }

  /** Every queued envelope, oldest first; one counter may occur once per writer. */
  async queued(): Promise<StoredEnvelope[]> {
    const out: StoredEnvelope[] = []
    for await (const { key, value } of this.storage.list({ prefix: ['valv', this.docId, 'q'] })) {
      const segment = key[key.length - 1] as string
      out.push({ counter: Number(segment.split('-')[0]), sealed: value, segment })
    }
    return out
  }

  /** Read the sealed checkpoint. */
  read(name: 'cp'): Promise<Uint8Array | undefined> {
    return this.storage.get(['valv', this.docId, name])
  }

  /** Replace the sealed checkpoint. */
  write(name: 'cp', sealed: Uint8Array): Promise<void> {
    return this.storage.put(['valv', this.docId, name], sealed)
  }

  /**
   * Every compacted state: one per writer (`state/<tag>`) and the older layout's `state`
   * (segment `''`). Yjs states merge, so a reader applies them all.
   */
  async states(): Promise<Array<{ segment: string; sealed: Uint8Array }>> {
    const out: Array<{ segment: string; sealed: Uint8Array }> = []
    const legacy = await this.storage.get(['valv', this.docId, 'state'])
    if (legacy !== undefined) out.push({ segment: '', sealed: legacy })
    const prefix = ['valv', this.docId, 'state']
    for await (const { key, value } of this.storage.list({ prefix })) {
      out.push({ segment: key[key.length - 1] as string, sealed: value })
    }
    return out
  }

  /** Append one sealed update chunk as number `n`; resolves with its key segment. */
  async append(n: number, sealed: Uint8Array): Promise<string> {
    const segment = `${pad(n)}-${this.tag}`
    await this.storage.put(['valv', this.docId, 'u', segment], sealed)
    return segment
  }

  /** Every appended chunk (any writer), oldest first, with its number and key segment. */
  async appended(): Promise<Array<{ n: number; sealed: Uint8Array; segment: string }>> {
    const out: Array<{ n: number; sealed: Uint8Array; segment: string }> = []
    for await (const { key, value } of this.storage.list({ prefix: ['valv', this.docId, 'u'] })) {
      const segment = key[key.length - 1] as string
      out.push({ n: Number(segment.split('-')[0]), sealed: value, segment })
    }
    return out.sort((a, b) => a.n - b.n)
  }

  /**
   * Write this writer's compacted state, then drop what it now contains: the chunks and the
   * other writers' states this binding wrote or applied (`covered`). Another tab's chunks and
   * state written since are left alone; they were never applied here. The state is written
   * first: a crash in between leaves chunks that apply again harmlessly (Yjs updates are
   * idempotent), never a state that lacks them.
   */
  async compact(
    sealedState: Uint8Array,
    covered: { readonly chunks: readonly string[]; readonly states: readonly string[] },
  ): Promise<void> {
    await this.storage.put(['valv', this.docId, 'state', this.tag], sealedState)
    for (const c of covered.chunks) await this.storage.delete(['valv', this.docId, 'u', c])
    for (const st of covered.states) {
      if (st === this.tag) continue
      await this.storage.delete(
        st === '' ? ['valv', this.docId, 'state'] : ['valv', this.docId, 'state', st],
      )
    }
  }
}
