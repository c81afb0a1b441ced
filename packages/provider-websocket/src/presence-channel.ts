import { type EncryptedDoc, type Misbehaviour, missing } from '@valv/core'
import * as decoding from 'lib0/decoding'
import * as awarenessProtocol from 'y-protocols/awareness'
import { decodePresence, encodePresence, type PresenceMessage, ReplayGuard } from './presence.js'

/** Timing of the presence channel. */
export interface PresenceOptions {
  /** How often signed heads are exchanged, in ms (default 5000). */
  readonly intervalMs?: number
  /** How long a peer's claimed update may be "in flight" before it counts as withheld (ms). */
  readonly graceMs?: number
  /** Presence older than this is dropped as a replay (default 60 000 ms). */
  readonly maxAgeMs?: number
}

/** What the presence channel needs from its provider. */
export interface PresenceHost {
  readonly binding: EncryptedDoc
  readonly awareness: awarenessProtocol.Awareness
  /** Whether the document is subscribed and caught up (heads are meaningful). */
  isSynced(): boolean
  send(payload: Uint8Array): void
  misbehaviour(m: Misbehaviour): void
  resync(): void
}

type Heads = Map<string, number>

/**
 * Encrypted, signed presence: awareness (so y-prosemirror / y-codemirror cursors work) and
 * per-author heads, which let members notice that the relay withheld an update from one of
 * them. Nothing here is persisted, by the relay or the client.
 */
export class PresenceChannel {
  private readonly session = Array.from(globalThis.crypto.getRandomValues(new Uint8Array(12)))
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('')
  private counter = 0
  private readonly guard: ReplayGuard
  private readonly owners = new Map<number, string>()
  private timer: ReturnType<typeof setInterval> | undefined
  private readonly checks = new Set<ReturnType<typeof setTimeout>>()
  private readonly intervalMs: number
  private readonly graceMs: number

  constructor(
    private readonly host: PresenceHost,
    options: PresenceOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 5000
    this.graceMs = options.graceMs ?? Math.min(1000, this.intervalMs / 2)
    this.guard = new ReplayGuard(options.maxAgeMs)
    host.awareness.on('update', this.onAwareness)
  }

  /** Start periodic heads (after the document synced) and announce the local awareness. */
  start(): void {
    this.stop()
    this.timer = setInterval(() => void this.sendHeads(), this.intervalMs)
    void this.sendHeads()
    if (this.host.awareness.getLocalState() !== null) void this.sendAwareness()
  }

  /** Stop timers and forget remote awareness (connection lost). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    for (const t of this.checks) clearTimeout(t)
    this.checks.clear()
    const aw = this.host.awareness
    const others = [...aw.getStates().keys()].filter((c) => c !== aw.clientID)
    awarenessProtocol.removeAwarenessStates(aw, others, this)
  }

  /** Unhook from the awareness instance. */
  destroy(): void {
    this.stop()
    this.host.awareness.off('update', this.onAwareness)
  }

  /** Handle a presence frame from the relay. */
  async receive(sealed: Uint8Array): Promise<void> {
    const opened = await this.host.binding.crypto.open('presence', sealed)
    const m = decodePresence(opened.plaintext)
    if (!this.guard.accept(opened.author, m)) return
    if (m.type === 'heads') return this.onHeads(opened.author, m.heads)
    // A member vouches only for its own awareness clients; a client id is bound to the first
    // author that used it, so one member cannot move another's cursor.
    const ids = awarenessClients(m.update)
    for (const id of ids) {
      const owner = this.owners.get(id)
      if (id === this.host.awareness.clientID || (owner !== undefined && owner !== opened.author)) {
        return
      }
    }
    for (const id of ids) this.owners.set(id, opened.author)
    awarenessProtocol.applyAwarenessUpdate(this.host.awareness, m.update, this)
  }

  private readonly onAwareness = (
    changes: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    if (origin === this) return
    const me = this.host.awareness.clientID
    const all = [...changes.added, ...changes.updated, ...changes.removed]
    if (all.includes(me)) void this.sendAwareness()
  }

  private async sendAwareness(): Promise<void> {
    if (!this.host.isSynced()) return
    const aw = this.host.awareness
    const update = awarenessProtocol.encodeAwarenessUpdate(aw, [aw.clientID])
    await this.seal({ type: 'awareness', update })
  }

  private async sendHeads(): Promise<void> {
    if (!this.host.isSynced()) return
    const b = this.host.binding
    await this.seal({ type: 'heads', heads: b.relayHeads(), lastSeq: b.lastSeq })
  }

  private async seal(
    body:
      | { type: 'awareness'; update: Uint8Array }
      | { type: 'heads'; heads: Heads; lastSeq: number },
  ): Promise<void> {
    const m = {
      session: this.session,
      counter: ++this.counter,
      sentAt: Date.now(),
      ...body,
    } as PresenceMessage
    try {
      const sealed = await this.host.binding.crypto.seal('presence', encodePresence(m), 0)
      this.host.send(sealed)
    } catch {
      // Sealing presence fails only without membership; presence is best effort.
    }
  }

  private onHeads(from: string, claimed: Heads): void {
    if (!this.host.isSynced()) return
    const gap = missing(this.host.binding.relayHeads(), claimed)
    if (gap.length === 0) return
    // The update may still be in flight to us: look again after the grace period.
    const t = setTimeout(() => {
      this.checks.delete(t)
      if (!this.host.isSynced()) return
      const still = missing(this.host.binding.relayHeads(), new Map(gap))
      if (still.length === 0) return
      for (const [author, counter] of still) {
        this.host.misbehaviour({
          kind: 'withheld',
          message: `member ${from.slice(0, 12)} has an update this client never received`,
          author,
          counter,
        })
      }
      this.host.resync()
    }, this.graceMs)
    this.checks.add(t)
  }
}

function awarenessClients(update: Uint8Array): number[] {
  // Same layout y-protocols writes: count, then (clientID, clock, state JSON) per entry.
  const dec = decoding.createDecoder(update)
  const ids: number[] = []
  const count = decoding.readVarUint(dec)
  for (let i = 0; i < count; i++) {
    ids.push(decoding.readVarUint(dec))
    decoding.readVarUint(dec)
    decoding.readVarString(dec)
  }
  return ids
}
