/**
 * Writers of one document on a running relay (in process or the CLI), with the bookkeeping the
 * endurance tests check: every token a writer typed, and whether it is in a replica exactly once.
 */
import { DocumentSession, Identity, PublicCard, Role } from '@valv/crypto'
import type { WebsocketProvider } from '@valv/provider-websocket'
import { type ConnectOptions, connect, RawClient, until } from '@valv/test-utils/stack'
import * as Y from 'yjs'

/** One writer: session, provider, the tokens it typed and how often it lost the connection. */
export interface Writer {
  readonly name: string
  readonly id: Identity
  readonly session: DocumentSession
  readonly provider: WebsocketProvider
  readonly typed: string[]
  disconnects: number
}

/** An admin and `editors` editors of a new document, each connected to `url` and synced. */
export async function writers(url: string, editors = 1, opts: ConnectOptions = {}) {
  const annaId = await Identity.create({ displayName: 'w0' })
  const admin = await DocumentSession.create(annaId)
  const out: Writer[] = [await writer('w0', annaId, admin, url, opts)]
  for (let i = 1; i <= editors; i++) {
    const id = await Identity.create({ displayName: `w${i}` })
    await admin.share(PublicCard.parse(id.card.toString()), Role.Editor)
    const session = await DocumentSession.open(id, admin.docId)
    out.push(await writer(`w${i}`, id, session, url, opts))
    await session.joined()
  }
  return out
}

async function writer(
  name: string,
  id: Identity,
  session: DocumentSession,
  url: string,
  opts: ConnectOptions,
): Promise<Writer> {
  const provider = await connect(url, session, opts)
  const w: Writer = { name, id, session, provider, typed: [], disconnects: 0 }
  provider.on('status', ({ status }) => {
    if (status === 'disconnected') w.disconnects++
  })
  return w
}

/** Type one unique token at the end of `w`'s text. */
export function type(w: Writer): string {
  const token = `<${w.name}:${w.typed.length}>`
  const t = w.provider.doc.getText('t')
  t.insert(t.length, token)
  w.typed.push(token)
  return token
}

/** How often `token` occurs in `text`. */
export function occurrences(text: string, token: string): number {
  return text.split(token).length - 1
}

/** Tokens of `ws` that are not in `text` exactly once (empty when all are). */
export function notExactlyOnce(text: string, ws: readonly Writer[]): string[] {
  return ws.flatMap((w) => w.typed.filter((t) => occurrences(text, t) !== 1))
}

/** Wait (bounded) until every writer has no unacknowledged edit and all texts are equal. */
export async function settled(ws: readonly Writer[], ms = 20_000): Promise<void> {
  await until(
    () => {
      const texts = new Set(ws.map((w) => w.provider.doc.getText('t').toString()))
      return (
        ws.every((w) => w.provider.unsyncedChanges === 0 && w.provider.synced) && texts.size === 1
      )
    },
    ms,
    `writers to settle (unsynced ${ws.map((w) => w.provider.unsyncedChanges).join(',')})`,
  )
}

/** The text a new session of `w`'s identity reads from `url` (what the relay durably holds). */
export async function readBack(url: string, w: Writer, opts: ConnectOptions = {}) {
  const session = await DocumentSession.open(w.id, w.session.docId)
  const p = await connect(url, session, opts)
  return p.doc.getText('t').toString()
}

/**
 * Updates the relay's log holds more than once: every envelope after the base snapshot is read
 * from `url`, opened with `w`'s session and its Yjs structs (client id, clock range) compared; a
 * struct range carried by two envelopes is a duplicate (harmless to Yjs, but an acknowledged
 * edit stored twice). Returns one line per duplicate (empty when the log holds each once).
 */
export async function logDuplicates(url: string, w: Writer): Promise<string[]> {
  const c = await RawClient.open(url)
  try {
    const docId = w.session.docId
    await c.auth('', { wait: false })
    c.send({ type: 'subscribe', docId, sinceSeq: 0, snapshotSeq: 0, membershipFrom: 0 })
    await c.next((f) => f.type === 'synced', 15_000)
    const seen = new Map<number, { from: number; to: number; seq: number }[]>()
    const out: string[] = []
    for (const f of c.frames) {
      if (f.type !== 'deliver') continue
      const { plaintext, author, counter } = await w.session.open('update', f.envelope)
      const meta = Y.parseUpdateMeta(plaintext)
      for (const [client, to] of meta.to) {
        const from = meta.from.get(client) ?? 0
        const ranges = seen.get(client) ?? []
        for (const r of ranges) {
          if (from < r.to && r.from < to) {
            out.push(`seq ${f.seq} (${author.slice(0, 8)}#${counter}) repeats seq ${r.seq}`)
          }
        }
        ranges.push({ from, to, seq: f.seq })
        seen.set(client, ranges)
      }
    }
    return out
  } finally {
    c.ws.terminate()
  }
}
