import { type Heads, readHeads, writeHeads } from '@valv/core'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { WebsocketProviderError } from './errors.js'

/** The counter of a `bye`: it ends its session, since no later counter can follow it. */
export const BYE_COUNTER = Number.MAX_SAFE_INTEGER

/** Most session ids one presence message acknowledges. */
export const MAX_ACKS = 64

/** The plaintext of a presence frame (sealed as `presence` with the document key). */
export type PresenceMessage = {
  /** Random id of the sender's session (a new one for every connection). */
  readonly session: string
  /** Strictly increasing per session: replay protection. */
  readonly counter: number
  /** Sender clock when sent (ms): stale messages are dropped. */
  readonly sentAt: number
  /**
   * Sessions of others the sender heard for the first time since its last message. A receiver
   * shows a sender's awareness only once the sender acknowledged the receiver's own (random,
   * per connection) session: a message recorded earlier cannot name it, so it cannot be played
   * into a later session.
   */
  readonly acks?: readonly string[]
} & (
  | { readonly type: 'awareness'; readonly update: Uint8Array }
  | { readonly type: 'heads'; readonly heads: Heads; readonly lastSeq: number }
  | { readonly type: 'bye' }
)

const VERSION = 2

/** Encode a presence message. */
export function encodePresence(m: PresenceMessage): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, VERSION)
  encoding.writeVarString(enc, m.session)
  encoding.writeVarUint(enc, m.counter)
  encoding.writeVarUint(enc, m.sentAt)
  const acks = m.acks ?? []
  encoding.writeVarUint(enc, acks.length)
  for (const a of acks) encoding.writeVarString(enc, a)
  if (m.type === 'awareness') {
    encoding.writeVarUint(enc, 0)
    encoding.writeVarUint8Array(enc, m.update)
  } else if (m.type === 'heads') {
    encoding.writeVarUint(enc, 1)
    writeHeads(enc, m.heads)
    encoding.writeVarUint(enc, m.lastSeq)
  } else {
    encoding.writeVarUint(enc, 2)
  }
  return encoding.toUint8Array(enc)
}

/** Decode a presence message; throws {@link WebsocketProviderError} `malformed`. */
export function decodePresence(bytes: Uint8Array): PresenceMessage {
  try {
    const dec = decoding.createDecoder(bytes)
    const m = readPresence(dec)
    if (decoding.hasContent(dec)) throw new Error('trailing bytes')
    return m
  } catch (cause) {
    throw new WebsocketProviderError('malformed', 'presence message does not decode', { cause })
  }
}

function readPresence(dec: decoding.Decoder): PresenceMessage {
  if (decoding.readVarUint(dec) !== VERSION) throw new Error('presence version')
  const head = {
    session: decoding.readVarString(dec),
    counter: decoding.readVarUint(dec),
    sentAt: decoding.readVarUint(dec),
  }
  const n = decoding.readVarUint(dec)
  if (n > MAX_ACKS) throw new Error('too many acks')
  const acks: string[] = []
  for (let i = 0; i < n; i++) acks.push(decoding.readVarString(dec))
  const base = { ...head, acks }
  const type = decoding.readVarUint(dec)
  if (type === 0) return { ...base, type: 'awareness', update: decoding.readVarUint8Array(dec) }
  if (type === 1) {
    return { ...base, type: 'heads', heads: readHeads(dec), lastSeq: decoding.readVarUint(dec) }
  }
  if (type === 2) return { ...base, type: 'bye' }
  throw new Error('presence type')
}

/**
 * Replay protection for presence across sessions, without anything persisted. Messages carry
 * the sender's session id, a per-session counter and the send time. Per (author, session) the
 * counter must grow; anything sent more than `maxAgeMs` ago is dropped. So a message captured
 * earlier can neither be replayed within its session nor played into a later one once it is
 * older than `maxAgeMs` (session state is forgotten only after that age as well). Within
 * `maxAgeMs`, a replay into a later session is stopped by the acknowledgement rule (`acks` of
 * {@link PresenceMessage}); a `bye` (counter 2^53−1) closes its session for good.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, { counter: number; at: number }>()

  constructor(private readonly maxAgeMs = 60_000) {}

  /** Whether `m` from `author` is fresh; records it if so. */
  accept(author: string, m: PresenceMessage, now = Date.now()): boolean {
    // A `bye` is sealed when the session starts and sent when it ends; replaying it only ends
    // a session that has already ended, so its age does not matter.
    if (m.type !== 'bye' && Math.abs(now - m.sentAt) > this.maxAgeMs) return false
    const key = `${author}/${m.session}`
    const last = this.seen.get(key)
    if (last !== undefined && m.counter <= last.counter) return false
    this.seen.set(key, { counter: m.counter, at: now })
    if (this.seen.size > 1024) this.prune(now)
    return true
  }

  private prune(now: number): void {
    for (const [k, v] of this.seen) if (now - v.at > 2 * this.maxAgeMs) this.seen.delete(k)
  }
}
