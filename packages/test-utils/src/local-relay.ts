import type { DocumentSession, MembershipSink } from '@valv/crypto'
import { MembershipState } from '@valv/protocol'

/**
 * The relay's membership behaviour, in memory: compare-and-append with full public
 * verification, then delivery to every attached session in order. Envelopes are passed by hand.
 */
export class LocalRelay {
  readonly chains = new Map<string, { state: MembershipState; entries: Uint8Array[] }>()
  private readonly sessions = new Set<DocumentSession>()
  /** Per-session delivery chains: like a socket, each session receives entries in order. */
  private readonly queues = new Map<DocumentSession, Promise<void>>()
  /** Sessions that do not receive (offline). */
  readonly offline = new Set<DocumentSession>()

  sink(session: DocumentSession): MembershipSink {
    this.sessions.add(session)
    return {
      appendMembership: async (index, entry) => {
        const c = this.chain(session.docId)
        if (index !== c.entries.length) {
          throw Object.assign(new Error('conflict'), { relayCode: 'membership-conflict' })
        }
        c.state.append(entry, { now: Math.floor(Date.now() / 1000) })
        c.entries.push(entry)
        const deliveries: Promise<void>[] = []
        for (const s of this.sessions) {
          // The appender gets it too, in order, as a provider applies its own entry on ack.
          if (s.docId === session.docId && !this.offline.has(s)) {
            const next = (this.queues.get(s) ?? Promise.resolve()).then(() =>
              s.applyMembership(index, entry),
            )
            this.queues.set(s, next)
            deliveries.push(next)
          }
        }
        await Promise.all(deliveries)
      },
    }
  }

  /** Attach a session and deliver the chain it is missing (as a subscribe would). */
  async connect(session: DocumentSession): Promise<void> {
    this.offline.delete(session)
    const c = this.chain(session.docId)
    const from = session.membershipLength()
    await session.applyMembershipMany(from, c.entries.slice(from))
    await session.attach(this.sink(session))
  }

  private chain(docId: string) {
    let c = this.chains.get(docId)
    if (c === undefined) {
      c = { state: new MembershipState(docId), entries: [] }
      this.chains.set(docId, c)
    }
    return c
  }
}
