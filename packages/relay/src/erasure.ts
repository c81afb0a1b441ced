import type { DocumentStore, StorageAdapter } from '@valv/storage'
import type { Frame } from '@valv/wire'
import type { RelayAuditLog } from './audit-log.js'
import { RelayError } from './errors.js'
import type { Room } from './room.js'
import type { Session } from './session.js'
import type { EnvelopeVerifier } from './verifier.js'

type EraseFrame = Extract<Frame, { type: 'erase' }>

/** What the erasure gate needs from the relay. */
export interface EraseGateHost {
  readonly storage: StorageAdapter
  readonly store: DocumentStore
  readonly verifier: EnvelopeVerifier
  /** The relay's audit trail; without it erasure is refused (an erasure must leave a record). */
  readonly audit: RelayAuditLog | undefined
  doc(docId: string): Room | undefined
  send(session: Session, frame: Frame): void
  /** Drop the room from memory and tell its other subscribers (`error` `erased`). */
  evict(room: Room, except: Session | undefined): void
  /**
   * Stop this node's uploads of the document and wait until their writes settled, so that the
   * deletion that follows finds every part they wrote (blobs.ts).
   */
  stopFiles(docId: string): Promise<void>
  /** Scale-out: tell the other nodes (they evict their room and stop their uploads). */
  announce(docId: string): void
}

/** Where tombstones live: outside `docs/`, which clients can reach only through a document. */
const tombstoneKey = (docId: string) => ['erased', docId]

/**
 * Erasure on the relay (the `erase` frame): an admin's signed request, checked against the
 * stored membership chain like every other membership-authorised write, deletes the document's
 * log, snapshots, membership chain and files, leaves a tombstone so that the id is refused from
 * then on (a removed member cannot write it back), and appends `erasure` to the relay's audit
 * trail. See docs/protocol.md, "Erasure on the relay".
 */
export class EraseGate {
  private readonly erased = new Set<string>()

  constructor(private readonly host: EraseGateHost) {}

  /** Whether `docId` was erased on this relay (or another node sharing its store). */
  async isErased(docId: string): Promise<boolean> {
    if (this.erased.has(docId)) return true
    if ((await this.host.storage.get(tombstoneKey(docId))) === undefined) return false
    this.erased.add(docId)
    return true
  }

  /** Whether this node knows `docId` is erased or being erased (memory only, no storage read). */
  knows(docId: string): boolean {
    return this.erased.has(docId)
  }

  /**
   * Another node announced that it erased `docId` (the bus): believed only if the tombstone is
   * in the store, then the room leaves memory, its subscribers get `erased`, uploads stop.
   */
  async erasedElsewhere(docId: string): Promise<void> {
    if (!(await this.isErased(docId))) return
    const room = this.host.doc(docId)
    if (room) {
      await room.exclusive(async () => {
        room.erased = true
      })
      this.host.evict(room, undefined)
    }
    await this.host.stopFiles(docId)
  }

  /** Handle one `erase` frame; throws a {@link RelayError} to reject (nothing changed then). */
  async receive(session: Session, f: EraseFrame): Promise<void> {
    const { audit, verifier } = this.host
    if (await this.isErased(f.docId)) throw new RelayError('erased', 'document was erased')
    const room = this.host.doc(f.docId)
    if (!room || !session.docs.has(f.docId)) {
      throw new RelayError('not-subscribed', 'subscribe first')
    }
    const verify = verifier.verifyEraseRequest
    if (verify === undefined || audit === undefined) {
      throw new RelayError('forbidden', 'erasure is not enabled on this relay')
    }
    const seq = await room.exclusive(async () => {
      if (room.erased) throw new RelayError('erased', 'document was erased')
      const ctx = { docId: f.docId, membership: room.membership }
      let author: string
      try {
        ;({ author } = await verify.call(verifier, ctx, f.request, session.sessionId))
      } catch (err) {
        const code = err instanceof RelayError ? err.code : 'internal-error'
        await audit
          .append({ type: 'erasure.refused', subject: f.docId, details: { code } })
          .catch(() => undefined)
        throw err
      }
      // Tombstone first: once it is durable no write is accepted while the data goes.
      await this.host.storage.put(tombstoneKey(f.docId), new Uint8Array([1]))
      room.erased = true
      this.erased.add(f.docId)
      try {
        // Uploads in flight could write a part after the deletion listed the files: stop them
        // first (new chunks are refused from here on, `knows`), then delete what they wrote.
        await this.host.stopFiles(f.docId)
        await this.host.store.deleteDocument(f.docId)
      } catch (err) {
        // Half-deleted: lift the tombstone so the admin can send the request again; the room
        // reads the store before its next write.
        room.erased = false
        room.reload = true
        this.erased.delete(f.docId)
        await this.host.storage.delete(tombstoneKey(f.docId)).catch(() => undefined)
        throw err
      }
      return audit.append({
        type: 'erasure',
        subject: f.docId,
        details: { author, entries: String(room.membership.length) },
      })
    })
    this.host.evict(room, session)
    this.host.announce(f.docId)
    this.host.send(session, { type: 'ack', docId: f.docId, ref: f.ref, seq })
  }
}
