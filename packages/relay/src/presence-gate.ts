import type { Frame, PresenceFrame } from '@valv/wire'
import type { Doc } from './doc.js'
import { RelayError } from './errors.js'
import type { RelayLimits } from './limits.js'
import type { RelayMetrics } from './metrics.js'
import type { Session } from './session.js'
import type { EnvelopeVerifier } from './verifier.js'

/** What the presence gate needs from the relay. */
export interface PresenceGateHost {
  readonly limits: RelayLimits
  readonly metrics: RelayMetrics
  readonly verifier: EnvelopeVerifier
  doc(docId: string): Doc | undefined
  send(session: Session, frame: Frame): void
  reject(session: Session, docId: string, err: unknown): void
  /** Tell the other relay nodes (scale-out). */
  publish(docId: string, frame: Frame): void
}

/**
 * Forwards presence only from a current member of the document, and from one member per
 * session and document: verified one frame after another (order kept), with a bounded backlog,
 * so a stranger's flood is neither forwarded nor queued without bound. Signed heads travel
 * inside presence; who may sign them is for the clients to check.
 */
export class PresenceGate {
  constructor(private readonly host: PresenceGateHost) {}

  /** Handle a presence frame of an authenticated session. */
  receive(session: Session, f: PresenceFrame, size: number): void {
    const { limits, metrics } = this.host
    if (size > limits.maxPresenceBytes) {
      this.host.reject(session, f.docId, new RelayError('too-large', 'presence too large'))
      return
    }
    if (!this.host.doc(f.docId) || !session.docs.has(f.docId)) {
      this.host.reject(session, f.docId, new RelayError('not-subscribed', 'subscribe first'))
      return
    }
    if (session.presencePending >= limits.maxPendingPresence) {
      metrics.drop('presence-backlog')
      return
    }
    session.presencePending++
    session.presenceTail = session.presenceTail
      .then(() => this.forward(session, f))
      .catch((err: unknown) => {
        metrics.drop('presence-not-member')
        this.host.reject(session, f.docId, err)
      })
      .finally(() => {
        session.presencePending--
      })
  }

  private async forward(session: Session, f: PresenceFrame): Promise<void> {
    // Checked on receipt: the sender was subscribed then. A `bye` is followed at once by the
    // close of its socket, so closing meanwhile must not drop what came before it.
    const doc = this.host.doc(f.docId)
    if (!doc) return
    const ctx = { docId: doc.id, membership: doc.membership }
    const { author } = await this.host.verifier.verifyPresence(ctx, f.payload)
    const bound = session.presenceAuthors.get(f.docId)
    if (bound !== undefined && bound !== author) {
      throw new RelayError('forbidden', 'presence of another member')
    }
    session.presenceAuthors.set(f.docId, author)
    for (const peer of doc.subscribers) if (peer !== session) this.host.send(peer, f)
    this.host.publish(f.docId, f)
  }
}
