import * as Y from 'yjs'
import { newSheetId as newId } from '../sheet/ids.js'
import { ChatError } from './errors.js'
import {
  bucketKey,
  bucketLevel,
  compareStamps,
  type MessageStamp,
  messageId,
  type ParsedMessageId,
  parseBucketKey,
  parseMessageId,
  parseStampKey,
  stampKey,
} from './ids.js'
import { contentOf, K, reactionKey, readMessage } from './message.js'
import { StreamIndex } from './stream-index.js'
import type { ChatChannel, ChatEvent, ChatMessage, ChatPage, ChatPageOptions } from './types.js'

/** Longest accepted message text, in UTF-16 code units. */
export const CHAT_MAX_TEXT = 20_000

/** Options of {@link Chat}. */
export interface ChatOptions {
  /** Id of the member using this replica: author of sends, owner of reactions and read markers. */
  readonly member: string
  /** Name prefix of the root map (default `valv.chat`), to hold several chats in one document. */
  readonly prefix?: string
  /** Origin stamped on this replica's transactions (default: the Chat instance). */
  readonly origin?: unknown
  /** Clock for `sentAt`/`editedAt` (default `Date.now`); display only, never the order. */
  readonly now?: () => number
}

type Channel = Y.Map<unknown>
type Buckets = Y.Map<Y.Map<unknown>>

interface Located {
  readonly parsed: ParsedMessageId
  readonly map: Y.Map<unknown>
}

const validText = (text: string): void => {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new ChatError('empty-message', 'message text is empty')
  }
  if (text.length > CHAT_MAX_TEXT) {
    throw new ChatError('too-long', `message text exceeds ${CHAT_MAX_TEXT} characters`)
  }
}

const validToken = (what: string, v: string, max: number): void => {
  if (typeof v !== 'string' || v === '' || v.length > max || v.includes('\u0000')) {
    throw new ChatError('bad-argument', `invalid ${what}`)
  }
}

/**
 * Chat: channels of messages with threads, reactions, read markers and paged history.
 *
 * Order rule: every message carries a stamp `(lamport, clientID)` where `lamport` is one more
 * than the newest stamp the writer had seen in that stream; all replicas sort by the stamp, so
 * concurrent appends interleave identically everywhere and the id (`lamport.client` in base 36)
 * is the same on every replica. Messages live in buckets keyed `stream|level|client` with
 * `level = floor(lamport / 64)`, so the newest page reads only the newest level(s).
 *
 * Redaction rule: a message's text, edit time and reactions live in one nested map; {@link
 * Chat.redact} deletes that map and marks the message redacted. Yjs garbage-collects a deleted
 * type with everything inside it (keys included) at the end of the transaction, on every replica
 * that applies it, so the text leaves the encoded state. An edit or reaction made concurrently
 * lands in the deleted map and is garbage-collected on arrival. This needs `doc.gc` (the
 * default) and no `Y.UndoManager` or snapshot keeping the chat's items alive.
 *
 * @example
 * ```ts
 * const chat = new Chat(doc, { member: 'anna' })
 * const general = chat.createChannel('general')
 * const id = chat.send(general, 'Hej!')
 * chat.reply(general, id, 'Hej Anna')
 * chat.toggleReaction(general, id, '👍')
 * chat.page(general).messages // newest 50, oldest first
 * ```
 */
export class Chat {
  /** The document holding the chat. */
  readonly doc: Y.Doc
  /** Member using this replica. */
  readonly member: string
  /** Origin stamped on this replica's transactions. */
  readonly origin: unknown
  private readonly root: Y.Map<Channel>
  private readonly now: () => number
  private readonly indexes = new Map<string, StreamIndex>()
  private readonly listeners = new Set<(e: ChatEvent) => void>()

  constructor(doc: Y.Doc, options: ChatOptions) {
    validToken('member id', options.member, 256)
    this.doc = doc
    this.member = options.member
    this.origin = options.origin ?? this
    this.now = options.now ?? Date.now
    this.root = doc.getMap(`${options.prefix ?? 'valv.chat'}.channels`)
    this.root.observeDeep(this.handler)
  }

  private readonly handler = (events: Y.YEvent<Y.AbstractType<unknown>>[]) => this.onEvents(events)

  /** Stop observing the document (listeners are dropped; the data is untouched). */
  destroy(): void {
    this.root.unobserveDeep(this.handler)
    this.listeners.clear()
  }

  /** Subscribe to changes; returns the unsubscribe function. */
  observe(listener: (e: ChatEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private tx(fn: () => void): void {
    this.doc.transact(fn, this.origin)
  }

  // ---- channels ----

  /** Create a channel and return its id. */
  createChannel(name: string): string {
    validToken('channel name', name.trim(), 200)
    const id = newId()
    const ch = new Y.Map<unknown>()
    ch.set('name', name.trim())
    ch.set('createdBy', this.member)
    ch.set('createdAt', this.now())
    ch.set('buckets', new Y.Map())
    ch.set('reads', new Y.Map())
    this.tx(() => this.root.set(id, ch))
    return id
  }

  /** Rename a channel (last writer wins). */
  renameChannel(channelId: string, name: string): void {
    validToken('channel name', name.trim(), 200)
    const ch = this.channel(channelId)
    this.tx(() => ch.set('name', name.trim()))
  }

  /** All channels, sorted by name then id. */
  channels(): ChatChannel[] {
    return [...this.root.entries()]
      .map(([id, ch]) => ({
        id,
        name: ch.get('name') as string,
        createdBy: ch.get('createdBy') as string,
        createdAt: ch.get('createdAt') as number,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1))
  }

  private channel(channelId: string): Channel {
    const ch = this.root.get(channelId)
    if (!ch) throw new ChatError('unknown-channel', `no channel ${channelId}`)
    return ch
  }

  private buckets(channelId: string): Buckets {
    return this.channel(channelId).get('buckets') as Buckets
  }

  private index(channelId: string): StreamIndex {
    let ix = this.indexes.get(channelId)
    if (!ix) {
      ix = new StreamIndex(this.buckets(channelId))
      this.indexes.set(channelId, ix)
    }
    return ix
  }

  // ---- writing ----

  /** Append a message to a channel; returns its id. */
  send(channelId: string, text: string): string {
    return this.append(channelId, '', text)
  }

  /**
   * Reply in the thread of a channel message; returns the reply's id. Replying to a reply puts
   * the answer in the same thread (threads are one level deep).
   */
  reply(channelId: string, toMessageId: string, text: string): string {
    const target = this.locate(channelId, toMessageId)
    const root = target.parsed.stream === '' ? target.parsed.key : target.parsed.stream
    return this.append(channelId, root, text)
  }

  private append(channelId: string, stream: string, text: string): string {
    validText(text)
    const buckets = this.buckets(channelId)
    const ix = this.index(channelId)
    const stamp: MessageStamp = {
      lamport: this.maxLamport(buckets, ix, stream) + 1,
      client: this.doc.clientID,
    }
    const key = stampKey(stamp)
    const bk = bucketKey(stream, bucketLevel(stamp.lamport), stamp.client)
    this.tx(() => {
      let bucket = buckets.get(bk)
      if (!bucket) {
        bucket = new Y.Map()
        buckets.set(bk, bucket)
        ix.add(bk)
      }
      const m = new Y.Map<unknown>()
      m.set(K.author, this.member)
      m.set(K.sentAt, this.now())
      const c = new Y.Map<unknown>()
      c.set(K.text, text)
      m.set(K.content, c)
      bucket.set(key, m)
    })
    return messageId(stream, key)
  }

  private maxLamport(buckets: Buckets, ix: StreamIndex, stream: string): number {
    const top = ix.levels(stream)[0]
    if (top === undefined) return -1
    let max = -1
    for (const bk of ix.keys(stream, top)) {
      for (const k of buckets.get(bk)?.keys() ?? []) {
        const s = parseStampKey(k)
        if (s && s.lamport > max) max = s.lamport
      }
    }
    return max
  }

  /** Replace the text of a live message (any member may edit; the UI decides who is allowed). */
  edit(channelId: string, id: string, text: string): void {
    validText(text)
    const c = this.content(channelId, id)
    this.tx(() => {
      c.set(K.text, text)
      c.set(K.editedAt, this.now())
    })
  }

  /**
   * Redact a message: its text and reactions are deleted from the document state (not hidden),
   * a tombstone keeps its place. Throws `redaction-unavailable` if the document has `gc`
   * disabled, because Yjs would then keep the deleted text.
   */
  redact(channelId: string, id: string): void {
    const { map } = this.locate(channelId, id)
    if (!this.doc.gc) {
      throw new ChatError('redaction-unavailable', 'redaction needs a Y.Doc with gc enabled')
    }
    if (map.has(K.redacted)) return
    this.tx(() => {
      map.delete(K.content)
      map.set(K.redacted, { by: this.member, at: this.now() })
    })
  }

  /** Toggle this member's reaction on a message; returns whether it is now set. */
  toggleReaction(channelId: string, id: string, emoji: string): boolean {
    validToken('emoji', emoji, 64)
    const c = this.content(channelId, id)
    const key = reactionKey(emoji, this.member)
    const on = !c.has(key)
    this.tx(() => (on ? c.set(key, true) : c.delete(key)))
    return on
  }

  private content(channelId: string, id: string): Y.Map<unknown> {
    const { map } = this.locate(channelId, id)
    const c = contentOf(map)
    if (!c || map.has(K.redacted)) throw new ChatError('redacted', `message ${id} is redacted`)
    return c
  }

  // ---- reading ----

  private locate(channelId: string, id: string): Located {
    const buckets = this.buckets(channelId)
    const parsed = parseMessageId(id)
    const bk = bucketKey(parsed.stream, bucketLevel(parsed.stamp.lamport), parsed.stamp.client)
    const map = buckets.get(bk)?.get(parsed.key) as Y.Map<unknown> | undefined
    if (!map) throw new ChatError('unknown-message', `no message ${id} in ${channelId}`)
    return { parsed, map }
  }

  /** One message by id. */
  message(channelId: string, id: string): ChatMessage {
    const { parsed, map } = this.locate(channelId, id)
    return this.read(channelId, parsed.stream, parsed.key, map)
  }

  private read(channelId: string, stream: string, key: string, m: Y.Map<unknown>): ChatMessage {
    const replies = stream === '' ? this.countStream(channelId, key) : 0
    return readMessage(m, messageId(stream, key), channelId, stream === '' ? null : stream, replies)
  }

  private countStream(channelId: string, stream: string): number {
    const ix = this.index(channelId)
    const buckets = this.buckets(channelId)
    let n = 0
    for (const level of ix.levels(stream)) {
      for (const bk of ix.keys(stream, level)) n += buckets.get(bk)?.size ?? 0
    }
    return n
  }

  /** The newest messages of a channel (or those before `options.before`), oldest first. */
  page(channelId: string, options: ChatPageOptions = {}): ChatPage {
    return this.pageOf(channelId, '', options)
  }

  /** A page of the replies to a channel message, oldest first. */
  thread(channelId: string, rootId: string, options: ChatPageOptions = {}): ChatPage {
    const root = this.locate(channelId, rootId).parsed
    if (root.stream !== '') throw new ChatError('bad-argument', `${rootId} is a reply, not a root`)
    return this.pageOf(channelId, root.key, options)
  }

  private pageOf(channelId: string, stream: string, options: ChatPageOptions): ChatPage {
    const limit = options.limit ?? 50
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new ChatError('bad-argument', 'limit must be a positive integer')
    }
    let before: MessageStamp | null = null
    if (options.before !== undefined) {
      const p = parseMessageId(options.before)
      if (p.stream !== stream) throw new ChatError('bad-argument', 'cursor is from another stream')
      before = p.stamp
    }
    const ix = this.index(channelId)
    const buckets = this.buckets(channelId)
    const found: [MessageStamp, string, Y.Map<unknown>][] = []
    let scanned = 0
    let olderLevels = false
    for (const level of ix.levels(stream)) {
      if (before && level > bucketLevel(before.lamport)) continue
      if (found.length >= limit) {
        olderLevels = true
        break
      }
      for (const bk of ix.keys(stream, level)) {
        for (const [k, m] of buckets.get(bk)?.entries() ?? []) {
          scanned++
          const s = parseStampKey(k)
          if (s && (!before || compareStamps(s, before) < 0))
            found.push([s, k, m as Y.Map<unknown>])
        }
      }
    }
    found.sort((a, b) => compareStamps(a[0], b[0]))
    const slice = found.slice(Math.max(0, found.length - limit))
    return {
      messages: slice.map(([, k, m]) => this.read(channelId, stream, k, m)),
      hasMore: olderLevels || found.length > limit,
      scanned,
    }
  }

  /** Every message of a channel or thread in order (for export; reads the whole history). */
  all(channelId: string, threadRootId?: string): ChatMessage[] {
    const out: ChatMessage[] = []
    let before: string | undefined
    for (;;) {
      const p: ChatPage =
        threadRootId === undefined
          ? this.page(channelId, before === undefined ? { limit: 500 } : { before, limit: 500 })
          : this.thread(
              channelId,
              threadRootId,
              before === undefined ? { limit: 500 } : { before, limit: 500 },
            )
      out.unshift(...p.messages)
      const first = p.messages[0]
      if (!p.hasMore || !first) return out
      before = first.id
    }
  }

  // ---- read markers ----

  /**
   * Mark channel messages up to `id` (default: the newest) as read by this member. Markers
   * only move forward; each device writes its own entry, and a member's marker is the newest.
   */
  markRead(channelId: string, id?: string): void {
    const target = id ?? this.page(channelId, { limit: 1 }).messages[0]?.id
    if (target === undefined) return
    const { parsed } = this.locate(channelId, target)
    if (parsed.stream !== '') throw new ChatError('bad-argument', 'read markers are per channel')
    const current = this.markerStamp(channelId, this.member)
    if (current && compareStamps(current, parsed.stamp) >= 0) return
    const reads = this.channel(channelId).get('reads') as Y.Map<string>
    this.tx(() => reads.set(`${this.member}\u0000${this.doc.clientID}`, parsed.key))
  }

  private markerStamp(channelId: string, member: string): MessageStamp | null {
    const reads = this.channel(channelId).get('reads') as Y.Map<string>
    let best: MessageStamp | null = null
    const prefix = `${member}\u0000`
    for (const [k, v] of reads.entries()) {
      if (!k.startsWith(prefix)) continue
      const s = parseStampKey(v)
      if (s && (!best || compareStamps(s, best) > 0)) best = s
    }
    return best
  }

  /** Id of the newest channel message a member has read, or `null`. */
  readMarker(channelId: string, member: string = this.member): string | null {
    const s = this.markerStamp(channelId, member)
    return s ? stampKey(s) : null
  }

  /**
   * Live channel messages by others newer than the member's read marker. Reads only the
   * levels after the marker, so the cost follows the unread count, not the history.
   */
  unreadCount(channelId: string, member: string = this.member): number {
    const marker = this.markerStamp(channelId, member)
    const ix = this.index(channelId)
    const buckets = this.buckets(channelId)
    let n = 0
    for (const level of ix.levels('')) {
      if (marker && level < bucketLevel(marker.lamport)) break
      for (const bk of ix.keys('', level)) {
        for (const [k, m] of buckets.get(bk)?.entries() ?? []) {
          const s = parseStampKey(k)
          if (!s || (marker && compareStamps(s, marker) <= 0)) continue
          const msg = m as Y.Map<unknown>
          if (msg.get(K.author) !== member && !msg.has(K.redacted)) n++
        }
      }
    }
    return n
  }

  // ---- events ----

  private onEvents(events: Y.YEvent<Y.AbstractType<unknown>>[]): void {
    const out: ChatEvent[] = []
    for (const e of events) {
      const path = e.path as string[]
      const channelId = path[0]
      if (channelId === undefined) {
        for (const k of (e as Y.YMapEvent<unknown>).keysChanged)
          out.push({ type: 'channel', channelId: k })
        continue
      }
      if (path.length === 1) out.push({ type: 'channel', channelId })
      else if (path[1] === 'reads') {
        for (const k of (e as Y.YMapEvent<unknown>).keysChanged) {
          out.push({ type: 'read', channelId, member: k.split('\u0000')[0] as string })
        }
      } else if (path[1] === 'buckets') {
        this.onBucketEvent(e, channelId, path, out)
      }
    }
    for (const ev of out) for (const l of this.listeners) l(ev)
  }

  private onBucketEvent(
    e: Y.YEvent<Y.AbstractType<unknown>>,
    channelId: string,
    path: string[],
    out: ChatEvent[],
  ): void {
    const target = e.target as Y.Map<unknown>
    const added = (bk: string, bucket: Y.Map<unknown>, keys: Iterable<string>) => {
      const stream = parseBucketKey(bk)?.stream ?? ''
      for (const k of keys) {
        const m = bucket.get(k) as Y.Map<unknown> | undefined
        if (m)
          out.push({ type: 'message', channelId, messageId: messageId(stream, k), change: 'added' })
      }
    }
    if (path.length === 2) {
      const ix = this.indexes.get(channelId)
      for (const bk of (e as Y.YMapEvent<unknown>).keysChanged) {
        ix?.add(bk)
        const bucket = target.get(bk) as Y.Map<unknown> | undefined
        if (bucket) added(bk, bucket, bucket.keys())
      }
    } else if (path.length === 3) {
      added(path[2] as string, target, (e as Y.YMapEvent<unknown>).keysChanged)
    } else if (path.length >= 4) {
      const stream = parseBucketKey(path[2] as string)?.stream ?? ''
      const keys = [...(e as Y.YMapEvent<unknown>).keysChanged]
      const change = path.length === 4 ? 'redacted' : keys.includes(K.text) ? 'edited' : 'reaction'
      const messageIdStr = messageId(stream, path[3] as string)
      out.push({ type: 'message', channelId, messageId: messageIdStr, change })
    }
  }
}
