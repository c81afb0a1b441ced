import * as Y from 'yjs'
import { type Checkpoint, decodeCheckpoint } from './checkpoint.js'
import type { DocumentCrypto } from './crypto-seam.js'
import { CoreError } from './errors.js'
import type { LocalStore, StoredEnvelope } from './local-store.js'

/** What an earlier session left in local storage, verified and decrypted. */
export interface LoadedState {
  /** The signed checkpoint, if one was saved. */
  readonly checkpoint: Checkpoint | undefined
  /** The offline queue with each envelope's plaintext (already applied to the document). */
  readonly queued: readonly { readonly envelope: StoredEnvelope; readonly plaintext: Uint8Array }[]
}

/**
 * The document's sealed local cache in a {@link LocalStore}: the state (compacted now and then,
 * appended chunks in between, as y-indexeddb does), the checkpoint and the offline queue, each
 * sealed under the member's keys and verified when read back. What is saved is decided
 * synchronously (the document as it is now); the sealing and writing run later, in order.
 */
export class LocalCache {
  /** Updates applied since the last save (any origin but the load itself): the next chunk. */
  private unsaved: Uint8Array[] = []
  /** Number of the last appended chunk; -1 = none since the state was compacted. */
  private chunk = -1
  /** Whether this writer's compacted state exists in storage (else the first save writes one). */
  private hasState = false
  /** Chunks written or applied here since the last compaction: the next one drops them. */
  private chunks: string[] = []
  /** Other writers' states applied at load: the next compaction contains and drops them. */
  private states: string[] = []
  /**
   * Bumped when a save fails. The saves prepared before it build on what it should have
   * written, and their checkpoints would claim it: they write nothing, and the next save
   * rewrites the whole state. (A loading client that has not joined yet cannot seal: without
   * this, its first save left no state while later ones appended chunks and a checkpoint, and
   * the next open resumed from that checkpoint with the content missing.)
   */
  private generation = 0

  constructor(
    readonly store: LocalStore,
    private readonly crypto: DocumentCrypto,
    /** Appended chunks after which a save rewrites the whole state instead. */
    private readonly compactAfter: number,
  ) {}

  /** An update was applied to the document: it goes into the next save. */
  note(update: Uint8Array): void {
    this.unsaved.push(update)
  }

  /**
   * The writes of one save of `doc` with the encoded `checkpoint`: only the updates applied
   * since the last save are sealed and appended; every `compactAfter` chunks the whole state is
   * sealed once instead and the chunks dropped. The checkpoint goes last, after the state it
   * describes.
   */
  prepare(doc: Y.Doc, checkpoint: Uint8Array): () => Promise<void> {
    const store = this.store
    const generation = this.generation
    const compact = !this.hasState || this.chunk + 1 >= this.compactAfter
    const unsaved = this.unsaved
    this.unsaved = []
    let write: (() => Promise<void>) | undefined
    // Decided now, with the state: only what this document already holds is dropped.
    let covered: { chunks: string[]; states: string[] } | undefined
    if (compact) {
      const state = Y.encodeStateAsUpdateV2(doc)
      this.hasState = true
      this.chunk = -1
      const dropped = { chunks: this.chunks, states: this.states }
      covered = dropped
      this.chunks = []
      this.states = []
      write = async () => store.compact(await this.crypto.seal('state', state, 0), dropped)
    } else if (unsaved.length > 0) {
      const n = ++this.chunk
      const merged = unsaved.length === 1 ? (unsaved[0] as Uint8Array) : Y.mergeUpdates(unsaved)
      const chunks = this.chunks
      write = async () => {
        chunks.push(await store.append(n, await this.crypto.seal('state', merged, 0)))
      }
    }
    return async () => {
      if (generation !== this.generation) {
        this.failed(covered, false)
        return
      }
      try {
        await write?.()
        await store.write('cp', await this.crypto.seal('checkpoint', checkpoint, 0))
      } catch (e) {
        this.failed(covered, true)
        throw e
      }
    }
  }

  /**
   * A save failed (`bump`) or was prepared before one that did: the next save compacts the
   * whole state, and the next compaction drops what this one would have dropped.
   */
  private failed(covered: { chunks: string[]; states: string[] } | undefined, bump: boolean): void {
    if (bump) {
      this.generation++
      this.hasState = false
    }
    if (covered !== undefined) {
      this.chunks.push(...covered.chunks)
      this.states.push(...covered.states)
    }
  }

  /**
   * Read, verify and apply (with `origin`, so it is not saved or sent again) what an earlier
   * session stored. Throws `corrupt-local-state` if anything does not verify.
   */
  async load(doc: Y.Doc, origin: object): Promise<LoadedState> {
    const store = this.store
    let checkpoint: Checkpoint | undefined
    const cpBytes = await store.read('cp')
    if (cpBytes !== undefined) {
      let opened: Awaited<ReturnType<DocumentCrypto['open']>>
      try {
        opened = await this.crypto.open('checkpoint', cpBytes)
      } catch (cause) {
        throw new CoreError('corrupt-local-state', 'checkpoint does not verify', { cause })
      }
      if (opened.author !== this.crypto.author) {
        throw new CoreError('corrupt-local-state', 'checkpoint was signed by someone else')
      }
      checkpoint = decodeCheckpoint(opened.plaintext)
    }
    for (const { segment, sealed } of await store.states()) {
      const opened = await this.crypto.open('state', sealed).catch((cause) => {
        throw new CoreError('corrupt-local-state', 'state cache does not verify', { cause })
      })
      Y.applyUpdateV2(doc, opened.plaintext, origin)
      this.states.push(segment)
    }
    for (const c of await store.appended()) {
      const opened = await this.crypto.open('state', c.sealed).catch((cause) => {
        throw new CoreError('corrupt-local-state', 'appended update does not verify', { cause })
      })
      Y.applyUpdate(doc, opened.plaintext, origin)
      this.chunk = Math.max(this.chunk, c.n)
      this.chunks.push(c.segment)
    }
    const queued: { envelope: StoredEnvelope; plaintext: Uint8Array }[] = []
    for (const envelope of await store.queued()) {
      const opened = await this.crypto.open('update', envelope.sealed).catch((cause) => {
        throw new CoreError('corrupt-local-state', 'queued envelope does not verify', { cause })
      })
      Y.applyUpdate(doc, opened.plaintext, origin)
      queued.push({ envelope, plaintext: opened.plaintext })
    }
    return { checkpoint, queued }
  }
}
