import type * as Y from 'yjs'
import type { EncryptedDocOptions } from './encrypted-doc.js'
import { type LoadedState, LocalCache } from './local-cache.js'
import type { LocalStore } from './local-store.js'

/**
 * When the binding saves to its {@link LocalCache}: every update applied to the document goes
 * into the next save, except what loading applied (it is stored already), and saves are
 * debounced so a burst of edits or deliveries costs one sealing and one write.
 */
export class Persistence {
  private readonly doc: Y.Doc
  private readonly cache: LocalCache
  private readonly saveMs: number
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    store: LocalStore,
    options: EncryptedDocOptions,
    /** The transaction origin of what loading applies. */
    private readonly origin: object,
  ) {
    this.doc = options.doc
    this.saveMs = options.saveMs ?? 300
    this.cache = new LocalCache(store, options.crypto, options.compactLocalAfter ?? 64)
    this.doc.on('update', this.onUpdate)
  }

  /** Read, verify and apply what an earlier session stored (see {@link LocalCache.load}). */
  load(): Promise<LoadedState> {
    return this.cache.load(this.doc, this.origin)
  }

  /**
   * The writes of a save now, with the encoded `checkpoint` (see {@link LocalCache.prepare});
   * a scheduled save is cancelled, this one covers it.
   */
  prepare(checkpoint: Uint8Array): () => Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    return this.cache.prepare(this.doc, checkpoint)
  }

  /** Run `save` after the debounce, unless a save is scheduled already. */
  schedule(save: () => void): void {
    if (this.timer !== undefined) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      save()
    }, this.saveMs)
  }

  /** Stop noting updates (a last save still writes what was noted). */
  destroy(): void {
    this.doc.off('update', this.onUpdate)
  }

  private readonly onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin !== this.origin) this.cache.note(update)
  }
}
