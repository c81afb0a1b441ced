import { DocumentSession, type Identity } from '@valv/crypto'
import { Chat } from '@valv/models/chat'
import { SheetWorkbook } from '@valv/models/sheet'
import { BroadcastProvider } from '@valv/provider-broadcast'
import {
  openDocument as openRelayDocument,
  RelayConnection,
  WebsocketProvider,
} from '@valv/provider-websocket'
import { IndexedDBStorageAdapter } from '@valv/storage-indexeddb'
import * as Y from 'yjs'

/**
 * The kinds of document the portal edits; each is one encrypted Valv document. `files` is a
 * shared drive: a `Drive` tree whose files are encrypted blobs on the relay.
 */
export type DocKind = 'text' | 'sheet' | 'slides' | 'chat' | 'files'

/**
 * A text document's comments live in a companion document whose write role is `Commenter`, so
 * a commenter can comment without being able to edit the text. Its id is in the text's meta.
 */
const COMMENTS_KEY = 'comments'

/**
 * What the portal puts in an invite link: the document's invite fragment, then for a text
 * document `~` and the comments document's invite fragment (`~` never occurs in a fragment).
 */
export const INVITE_SEPARATOR = '~'

/** One open document: its session (keys, members), transports and `Y.Doc`. */
export interface OpenDocument {
  readonly session: DocumentSession
  /** Sync through the relay (and file transfer). */
  readonly provider: WebsocketProvider
  /** Sync with this profile's other tabs, without the relay (absent without BroadcastChannel). */
  readonly tabs: BroadcastProvider | undefined
  readonly doc: Y.Doc
  /** Title and kind, stored encrypted inside the document so joiners learn them. */
  readonly meta: Y.Map<string>
  destroy(): Promise<void>
}

const META = 'valv.portal.meta'

let storage: IndexedDBStorageAdapter | undefined
/** One IndexedDB database per identity: offline queue, state cache and the key store. */
function storageFor(me: Identity): IndexedDBStorageAdapter {
  storage ??= new IndexedDBStorageAdapter({ dbName: `valv-${me.userId.slice(0, 16)}` })
  return storage
}

let connection: RelayConnection | undefined
/**
 * One socket to the relay for every document this tab opens (the connection is reference
 * counted, reconnects with backoff and follows the browser's online/offline events).
 */
function connectionTo(relayUrl: string): RelayConnection {
  connection ??= new RelayConnection({ url: relayUrl })
  return connection
}

/**
 * A new `Y.Doc` for a document of `kind`. Text keeps deleted items (`gc: false`) because
 * version history restores old states from Yjs snapshots; the others collect them, which chat
 * redaction needs (the redacted text must leave the document state).
 */
function newDoc(kind: DocKind | 'comments' | undefined): Y.Doc {
  return new Y.Doc({ gc: kind !== undefined && kind !== 'text' })
}

function bind(me: Identity, session: DocumentSession, provider: WebsocketProvider): OpenDocument {
  const doc = provider.doc
  const meta = doc.getMap<string>(META)
  // A joiner learns the kind only from the document: collect garbage once it is not text.
  const gc = () => {
    const kind = meta.get('kind')
    if (kind !== undefined) doc.gc = kind !== 'text'
  }
  meta.observe(gc)
  gc()
  provider.awareness.setLocalStateField('user', {
    name: me.card.displayName,
    color: colorFor(me.userId),
  })
  let tabs: BroadcastProvider | undefined
  try {
    // Same binding as the relay provider: an edit is sealed once and sent both ways.
    tabs = new BroadcastProvider({ binding: provider.binding })
  } catch {
    // No BroadcastChannel here: tabs still meet through the relay.
  }
  return {
    session,
    provider,
    tabs,
    doc,
    meta,
    async destroy() {
      meta.unobserve(gc)
      await tabs?.destroy()
      await provider.destroy()
    },
  }
}

/** Create a new document of `kind`; the creator is its admin. */
export async function createDocument(
  me: Identity,
  relayUrl: string,
  kind: DocKind,
  title: string,
): Promise<OpenDocument> {
  const make = (docKind: DocKind | 'comments') =>
    openRelayDocument({
      identity: me,
      relay: connectionTo(relayUrl),
      storage: storageFor(me),
      doc: newDoc(docKind),
      ...(docKind === 'comments' ? { create: { writeRole: 'commenter' as const } } : {}),
    })
  // A text document and its comments document are created side by side.
  const [opened, made] = await Promise.all([
    make(kind),
    kind === 'text' ? make('comments') : Promise.resolve(undefined),
  ])
  const open = bind(me, opened.session, opened.provider)
  let comments: OpenDocument | undefined
  if (made !== undefined) {
    comments = bind(me, made.session, made.provider)
    comments.meta.set('kind', 'comments')
    companions.set(open.session.docId, Promise.resolve(comments))
  }
  open.doc.transact(() => {
    open.meta.set('kind', kind)
    open.meta.set('title', title)
    if (comments) open.meta.set(COMMENTS_KEY, comments.session.docId)
    // Only the creator lays out the first sheet (or channel), so two replicas never both add one.
    if (kind === 'sheet') new SheetWorkbook(open.doc).addSheet('Blad1', { rows: 20, columns: 8 })
    if (kind === 'chat') new Chat(open.doc, { member: me.userId }).createChannel(title)
  })
  return open
}

/**
 * Reopen a document this device is a member of. Unlike `openDocument` of the SDK this does not
 * wait for the relay, so it also works offline, from IndexedDB.
 */
export async function openDocument(
  me: Identity,
  relayUrl: string,
  docId: string,
  kind?: DocKind | 'comments',
): Promise<OpenDocument> {
  const store = storageFor(me)
  const session = await DocumentSession.open(me, docId, { keyStore: store })
  const provider = new WebsocketProvider({
    connection: connectionTo(relayUrl),
    doc: newDoc(kind),
    docId,
    document: session,
    storage: store,
  })
  session.attach(provider).catch(() => {
    // Offline: the session attaches again when the provider reconnects and syncs.
  })
  return bind(me, session, provider)
}

/**
 * Join through an invite link (with the comments document's invite after `~`, if any);
 * resolves once this device is a member of both and caught up.
 */
export async function joinDocument(
  me: Identity,
  relayUrl: string,
  link: string,
): Promise<OpenDocument> {
  const [main = '', second] = link.slice(link.indexOf('#') + 1).split(INVITE_SEPARATOR)
  const join = async (invite: string, kind: 'comments' | undefined) => {
    const opened = await openRelayDocument({
      identity: me,
      relay: connectionTo(relayUrl),
      storage: storageFor(me),
      invite: `#${invite}`,
      doc: newDoc(kind),
    })
    return bind(me, opened.session, opened.provider)
  }
  const open = await join(main, undefined)
  if (second !== undefined) companions.set(open.session.docId, join(second, 'comments'))
  return open
}

const companions = new Map<string, Promise<OpenDocument | undefined>>()

/**
 * The comments document of text document `open` (undefined for a text document made before
 * comments had their own document: its comments are in the text itself). Opened once per tab.
 */
export function commentsOf(
  me: Identity,
  relayUrl: string,
  open: OpenDocument,
): Promise<OpenDocument | undefined> {
  const docId = open.session.docId
  let pending = companions.get(docId)
  if (pending === undefined) {
    const id = open.meta.get(COMMENTS_KEY)
    pending = id === undefined ? Promise.resolve(undefined) : openDocument(me, relayUrl, id)
    // A failure (not a member of it, say) is not cached: the next render tries again.
    pending.catch(() => companions.delete(docId))
    companions.set(docId, pending)
  }
  return pending
}

/** Display names of the document's members by user id, from the membership chain. */
export function memberNames(session: DocumentSession): Map<string, string> {
  const names = new Map<string, string>()
  for (const m of session.members()) {
    if (m.userId !== undefined && m.displayName !== '') names.set(m.userId, m.displayName)
  }
  return names
}

/** A stable, readable cursor colour per user (all pass 4.5:1 on white). */
function colorFor(userId: string): string {
  const palette = ['#1d4ed8', '#b91c1c', '#047857', '#7c3aed', '#b45309', '#0e7490']
  return palette[Number.parseInt(userId.slice(0, 2), 16) % palette.length] ?? '#1d4ed8'
}
