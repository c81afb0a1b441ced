import { type Heads, readHeads, writeHeads } from '@valv/core'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { WebsocketProviderError } from './errors.js'

/** The plaintext of a presence frame (sealed as `presence` with the document key). */
export type PresenceMessage = {
  /** Random id of the sender's session (one per provider connection lifetime). */
  readonly session: string
  /** Strictly increasing per session: replay protection. */
  readonly counter: number
  /** Sender clock when sent (ms): stale messages are dropped. */
  readonly sentAt: number
} & (
  | { readonly type: 'awareness'; readonly update: Uint8Array }
  | { readonly type: 'heads'; readonly heads: Heads; readonly lastSeq: number }
)

/** Encode a presence message. */
export function encodePresence(m: PresenceMessage): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, 1)
  encoding.writeVarString(enc, m.session)
  encoding.writeVarUint(enc, m.counter)
  encoding.writeVarUint(enc, m.sentAt)
  if (m.type === 'awareness') {
    encoding.writeVarUint(enc, 0)
    encoding.writeVarUint8Array(enc, m.update)
  } else {
    encoding.writeVarUint(enc, 1)
    writeHeads(enc, m.heads)
    encoding.writeVarUint(enc, m.lastSeq)
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
  if (decoding.readVarUint(dec) !== 1) throw new Error('presence version')
  const base = {
    session: decoding.readVarString(dec),
    counter: decoding.readVarUint(dec),
    sentAt: decoding.readVarUint(dec),
  }
  const type = decoding.readVarUint(dec)
  if (type === 0) return { ...base, type: 'awareness', update: decoding.readVarUint8Array(dec) }
  if (type === 1) {
    return { ...base, type: 'heads', heads: readHeads(dec), lastSeq: decoding.readVarUint(dec) }
  }
  throw new Error('presence type')
}

/**
 * Replay protection for presence across sessions, without anything persisted. Messages carry
 * the sender's session id, a per-session counter and the send time. Per (author, session) the
 * counter must grow; anything sent more than `maxAgeMs` ago is dropped. So a message captured
 * earlier can neither be replayed within its session nor played into a later one once it is
 * older than `maxAgeMs` (session state is forgotten only after that age as well).
 */
export class ReplayGuard {
  private readonly seen = new Map<string, { counter: number; at: number }>()

  constructor(private readonly maxAgeMs = 60_000) {}

  /** Whether `m` from `author` is fresh; records it if so. */
  accept(author: string, m: PresenceMessage, now = Date.now()): boolean {
    if (Math.abs(now - m.sentAt) > this.maxAgeMs) return false
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
