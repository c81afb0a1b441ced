import { DocumentSession, type Identity } from '@valv/crypto'
import { SheetWorkbook } from '@valv/models'
import { WebsocketProvider } from '@valv/provider-websocket'
import { IndexedDBStorageAdapter } from '@valv/storage-indexeddb'
import * as Y from 'yjs'

/** The kinds of document the portal edits; each is one encrypted Valv document. */
export type DocKind = 'text' | 'sheet' | 'slides' | 'chat'

/** One open document: its session (keys, members), provider (sync) and `Y.Doc`. */
export interface OpenDocument {
  readonly session: DocumentSession
  readonly provider: WebsocketProvider
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

async function connect(me: Identity, session: DocumentSession, relayUrl: string) {
  // gc: false because version history keeps Yjs snapshots of old states.
  const doc = new Y.Doc({ gc: false })
  const provider = new WebsocketProvider({
    url: relayUrl,
    doc,
    docId: session.docId,
    document: session,
    storage: storageFor(me),
  })
  const name = me.card.displayName
  provider.awareness.setLocalStateField('user', { name, color: colorFor(me.userId) })
  const online = () => provider.connect()
  const offline = () => provider.disconnect()
  window.addEventListener('online', online)
  window.addEventListener('offline', offline)
  if (!navigator.onLine) provider.disconnect()
  const open: OpenDocument = {
    session,
    provider,
    doc,
    meta: doc.getMap<string>(META),
    async destroy() {
      window.removeEventListener('online', online)
      window.removeEventListener('offline', offline)
      await provider.destroy()
    },
  }
  return open
}

/** Create a new document of `kind`; the creator is its admin. */
export async function createDocument(
  me: Identity,
  relayUrl: string,
  kind: DocKind,
  title: string,
): Promise<OpenDocument> {
  const session = await DocumentSession.create(me, { keyStore: storageFor(me) })
  const open = await connect(me, session, relayUrl)
  await session.attach(open.provider)
  open.doc.transact(() => {
    open.meta.set('kind', kind)
    open.meta.set('title', title)
    // Only the creator lays out the first sheet, so two replicas never both add one.
    if (kind === 'sheet') new SheetWorkbook(open.doc).addSheet('Blad1', { rows: 20, columns: 8 })
  })
  return open
}

/** Reopen a document this device is a member of (works offline from IndexedDB). */
export async function openDocument(
  me: Identity,
  relayUrl: string,
  docId: string,
): Promise<OpenDocument> {
  const session = await DocumentSession.open(me, docId, { keyStore: storageFor(me) })
  const open = await connect(me, session, relayUrl)
  session.attach(open.provider).catch(() => {
    // Offline: the session attaches again when the provider reconnects and syncs.
  })
  return open
}

/** Join through an invite link; resolves once this device is a member and caught up. */
export async function joinDocument(
  me: Identity,
  relayUrl: string,
  link: string,
): Promise<OpenDocument> {
  const session = await DocumentSession.join(me, link, { keyStore: storageFor(me) })
  const open = await connect(me, session, relayUrl)
  await session.attach(open.provider)
  await session.joined()
  await open.provider.whenSynced()
  return open
}

/** A stable, readable cursor colour per user (all pass 4.5:1 on white). */
function colorFor(userId: string): string {
  const palette = ['#1d4ed8', '#b91c1c', '#047857', '#7c3aed', '#b45309', '#0e7490']
  return palette[Number.parseInt(userId.slice(0, 2), 16) % palette.length] ?? '#1d4ed8'
}
