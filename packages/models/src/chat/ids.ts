import { ChatError } from './errors.js'

/**
 * Lamport values per bucket. A page of 50 messages reads one or two bucket levels, so a level
 * should hold about a page; more would make each page read more, fewer would add bucket keys.
 */
export const BUCKET_SPAN = 64

/** Position of a message in its stream: Lamport time, then the writing client. */
export interface MessageStamp {
  readonly lamport: number
  readonly client: number
}

/** Key of a message inside its bucket: `lamport.client` in base 36. */
export function stampKey(s: MessageStamp): string {
  return `${s.lamport.toString(36)}.${s.client.toString(36)}`
}

/** Parse a {@link stampKey}; `null` when malformed. */
export function parseStampKey(key: string): MessageStamp | null {
  const m = /^([0-9a-z]{1,11})\.([0-9a-z]{1,11})$/.exec(key)
  if (!m) return null
  return {
    lamport: Number.parseInt(m[1] as string, 36),
    client: Number.parseInt(m[2] as string, 36),
  }
}

/** Total order of stamps, identical on every replica. */
export function compareStamps(a: MessageStamp, b: MessageStamp): number {
  return a.lamport - b.lamport || a.client - b.client
}

/** Bucket level of a Lamport time. */
export function bucketLevel(lamport: number): number {
  return Math.floor(lamport / BUCKET_SPAN)
}

/**
 * Key of a bucket in a channel's bucket map. The writing client is part of the key so that two
 * clients opening the same level at once create two maps instead of overwriting each other's.
 */
export function bucketKey(stream: string, level: number, client: number): string {
  return `${stream}|${level}|${client}`
}

/** Parse a {@link bucketKey}. */
export function parseBucketKey(key: string): { stream: string; level: number } | null {
  const parts = key.split('|')
  if (parts.length !== 3) return null
  const level = Number(parts[1])
  return Number.isSafeInteger(level) ? { stream: parts[0] as string, level } : null
}

/** A message id split into its stream (`''` for the channel, else the thread root) and stamp. */
export interface ParsedMessageId {
  readonly stream: string
  readonly stamp: MessageStamp
  readonly key: string
}

/** Public id of a message: the stamp key, prefixed by the thread root for replies. */
export function messageId(stream: string, key: string): string {
  return stream === '' ? key : `${stream}/${key}`
}

/** Parse a public message id or throw `unknown-message`. */
export function parseMessageId(id: string): ParsedMessageId {
  const slash = id.indexOf('/')
  const stream = slash < 0 ? '' : id.slice(0, slash)
  const key = slash < 0 ? id : id.slice(slash + 1)
  const stamp = parseStampKey(key)
  if (!stamp || (stream !== '' && !parseStampKey(stream))) {
    throw new ChatError('unknown-message', `malformed message id ${JSON.stringify(id)}`)
  }
  return { stream, stamp, key }
}
