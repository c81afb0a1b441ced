import { type EncryptedDoc, type Misbehaviour, missing } from '@valv/core'
import * as decoding from 'lib0/decoding'
import * as awarenessProtocol from 'y-protocols/awareness'
import {
  BYE_COUNTER,
  decodePresence,
  encodePresence,
  MAX_ACKS,
  type PresenceMessage,
  ReplayGuard,
} from './presence.js'

/** Timing of the presence channel. */
export interface PresenceOptions {
  /**
   * How often signed heads are exchanged while another session is present, in ms (default
   * 5000). Alone in a document, a client sends nothing after announcing its session.
   */
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
type Body =
  | { type: 'awareness'; update: Uint8Array }
  | { type: 'heads'; heads: Heads; lastSeq: number }
  | { type: 'bye' }

/** Most remote sessions remembered per local session (a member can mint sessions at will). */
const MAX_SESSIONS = 4096
/**
 * Heads intervals without a word from any other session after which the document counts as
 * empty and periodic presence stops. Present peers send every interval, so several missed ones
 * in a row mean they are gone; a newcomer announces itself and is answered at once.
 */
const QUIET_INTERVALS = 6

const newSession = (): string =>
  Array.from(globalThis.crypto.getRandomValues(new Uint8Array(12)))
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('')

/** Add `key` to an insertion-ordered set, forgetting the oldest beyond {@link MAX_SESSIONS}. */
function remember<V>(m: Map<string, V>, key: string, value: V): void {
  m.delete(key)
  m.set(key, value)
  if (m.size > MAX_SESSIONS) m.delete(m.keys().next().value as string)
}

/**
 * Encrypted, signed presence: awareness (so y-prosemirror / y-codemirror cursors work) and
 * per-author heads, which let members notice that the relay withheld an update from one of
 * them. Nothing here is persisted, by the relay or the client.
 *
 * Presence is bound to the sender's session: every connection starts a random session, and a
 * receiver shows a sender's awareness only after a message of that session acknowledged the
 * receiver's own current session (see `PresenceMessage.acks`), so a frame recorded earlier
 * (a member who has left) cannot be played into a later session. A `bye` sealed in advance is
 * sent on leaving and removes the session's cursors at once. Heads are believed only from
 * members whose role lets them write: a viewer cannot make anyone accuse the relay.
 *
 * An idle document costs nothing: heads and awareness renewals go out periodically only while
 * another session was heard recently (no one else would receive them; a relay that hid the
 * others could drop the frames just as well). A new session announces itself with heads and
 * everyone present answers within ~10 ms, which starts the exchange on both sides.
 */
export class PresenceChannel {
  private session = newSession()
  private counter = 0
  private readonly guard: ReplayGuard
  private readonly owners = new Map<number, string>()
  /** Remote sessions heard during the local session (`author/session`). */
  private readonly heard = new Map<string, true>()
  /** Remote sessions that acknowledged the local session: their awareness is shown. */
  private readonly confirmed = new Map<string, Set<number>>()
  /** Latest awareness of a session not confirmed yet. */
  private readonly held = new Map<string, { author: string; update: Uint8Array }>()
  /** Sessions to acknowledge in the next message. */
  private acks = new Set<string>()
  private replyTimer: ReturnType<typeof setTimeout> | undefined
  private sending: Promise<unknown> = Promise.resolve()
  private bye: Uint8Array | undefined
  /** Whether a local session runs (from `start` to `stop`). */
  private active = false
  /** Periodic heads; runs only while other sessions are present. */
  private timer: ReturnType<typeof setInterval> | undefined
  /** When another session was last heard (0: none in the current session). */
  private peerHeardAt = 0
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

  /**
   * Start a new session (after the document synced): periodic heads, the local awareness, and
   * a `bye` sealed in advance so that leaving needs no asynchronous work.
   */
  start(): void {
    this.stop()
    this.session = newSession()
    this.counter = 0
    this.active = true
    // Announces the session: whoever is present answers, which starts the periodic exchange.
    void this.sendHeads()
    if (this.host.awareness.getLocalState() !== null) void this.sendAwareness()
  }

  /** Leaving while still connected: send the session's `bye` (others drop its cursors). */
  leave(): void {
    if (this.bye !== undefined) this.host.send(this.bye)
    this.bye = undefined
  }

  /** Stop timers and forget remote awareness and sessions (connection lost). */
  stop(): void {
    this.active = false
    this.peerHeardAt = 0
    this.stopHeads()
    if (this.replyTimer !== undefined) clearTimeout(this.replyTimer)
    this.replyTimer = undefined
    for (const t of this.checks) clearTimeout(t)
    this.checks.clear()
    this.bye = undefined
    this.heard.clear()
    this.confirmed.clear()
    this.held.clear()
    this.acks.clear()
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
    const opened = await this.host.binding.openPresence(sealed)
    const m = decodePresence(opened.message)
    // Before the local session started there is no session to acknowledge or confirm.
    if (!this.active || !this.guard.accept(opened.author, m)) return
    const key = `${opened.author}/${m.session}`
    if (m.type === 'bye') return this.onBye(key)
    this.peerHeard()
    if (!this.heard.has(key)) {
      remember(this.heard, key, true)
      this.acks.add(m.session)
      this.scheduleReply()
    }
    if (m.acks?.includes(this.session) && !this.confirmed.has(key)) {
      remember(this.confirmed, key, new Set())
      const held = this.held.get(key)
      this.held.delete(key)
      if (held !== undefined) this.applyAwareness(key, held.author, held.update)
    }
    if (m.type === 'heads') {
      if (opened.writer) this.onHeads(opened.author, m.heads)
      return
    }
    if (this.confirmed.has(key)) this.applyAwareness(key, opened.author, m.update)
    else remember(this.held, key, { author: opened.author, update: m.update })
  }

  /** Another session spoke: keep (or start) the periodic heads exchange. */
  private peerHeard(): void {
    this.peerHeardAt = Date.now()
    if (this.timer !== undefined) return
    this.timer = setInterval(() => {
      if (Date.now() - this.peerHeardAt > QUIET_INTERVALS * this.intervalMs) this.stopHeads()
      else void this.sendHeads()
    }, this.intervalMs)
  }

  private stopHeads(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  private applyAwareness(key: string, author: string, update: Uint8Array): void {
    // A member vouches only for its own awareness clients; a client id is bound to the first
    // author that used it, so one member cannot move another's cursor.
    const ids = awarenessClients(update)
    for (const id of ids) {
      const owner = this.owners.get(id)
      if (id === this.host.awareness.clientID || (owner !== undefined && owner !== author)) {
        return
      }
    }
    for (const id of ids) this.owners.set(id, author)
    for (const id of ids) this.confirmed.get(key)?.add(id)
    awarenessProtocol.applyAwarenessUpdate(this.host.awareness, update, this)
  }

  private onBye(key: string): void {
    const ids = [...(this.confirmed.get(key) ?? [])]
    this.confirmed.delete(key)
    this.held.delete(key)
    awarenessProtocol.removeAwarenessStates(this.host.awareness, ids, this)
  }

  /** Answer a session heard for the first time soon, so it can show this member at once. */
  private scheduleReply(delayMs = 10): void {
    if (this.replyTimer !== undefined) return
    this.replyTimer = setTimeout(() => {
      this.replyTimer = undefined
      if (this.host.awareness.getLocalState() !== null) void this.sendAwareness()
      else void this.sendHeads()
    }, delayMs)
  }

  private readonly onAwareness = (
    changes: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    if (origin === this) return
    // Alone, a change (or y-protocols' 15 s renewal) has no receiver; a newcomer is answered
    // with the current awareness when it announces itself.
    if (this.timer === undefined) return
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

  private seal(body: Body): Promise<void> {
    const acks = [...this.acks].slice(0, MAX_ACKS)
    for (const a of acks) this.acks.delete(a)
    if (this.acks.size > 0) this.scheduleReply()
    const m = {
      session: this.session,
      counter: ++this.counter,
      sentAt: Date.now(),
      acks,
      ...body,
    } as PresenceMessage
    // Sealed one after another: counters must reach the relay in increasing order.
    const run = this.sending.then(async () => {
      try {
        const binding = this.host.binding
        const sealed = await binding.sealPresence(encodePresence(m))
        if (this.session !== m.session) return
        this.host.send(sealed)
        // Sealed once per session, as soon as sealing works (a joiner is not a member at once).
        if (this.bye === undefined) {
          const bye = { session: m.session, counter: BYE_COUNTER, sentAt: Date.now() }
          const b = await binding.sealPresence(encodePresence({ ...bye, type: 'bye' }))
          if (this.session === m.session) this.bye = b
        }
      } catch {
        // Sealing presence fails only without membership (a joiner, early): presence is best
        // effort, but the acknowledgements ride on the next message.
        if (this.session !== m.session) return
        for (const a of acks) this.acks.add(a)
        // Try again soon rather than at the next heads interval: a joiner becomes a member
        // moments after it synced, and until then no one can see or answer its session.
        if (this.active) this.scheduleReply(250)
      }
    })
    this.sending = run
    return run
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
