import { type CreateDocumentOptions, DocumentSession, type Identity } from '@valv/crypto'
import type { StorageAdapter } from '@valv/storage'
import * as Y from 'yjs'
import type { BackoffOptions } from './backoff.js'
import { RelayConnection, type WebSocketConstructor } from './connection.js'
import { WebsocketProviderError } from './errors.js'
import { WebsocketProvider } from './provider.js'
import type { WebsocketProviderOptions } from './provider-options.js'

/** Options of {@link openDocument}. */
export interface OpenDocumentOptions {
  /** Who opens it (keys never leave this process). */
  readonly identity: Identity
  /**
   * The relay: a URL, several URLs (failover), or a {@link RelayConnection}. For URLs, one
   * connection per identity and URL list is shared by every document opened through here.
   */
  readonly relay: string | readonly string[] | RelayConnection
  /**
   * Local storage: the key store (chain and keys, so the document reopens offline) and the
   * document's offline queue, state cache and checkpoint. None = memory only.
   */
  readonly storage?: StorageAdapter
  /** Join through this invite link (a URL or its `#…` fragment). */
  readonly invite?: string
  /** Reopen this document (a member already, or shared directly with this identity). */
  readonly docId?: string
  /** The document to bind (a new `Y.Doc` by default). */
  readonly doc?: Y.Doc
  /** Options of a new document (when neither `invite` nor `docId` is given). */
  readonly create?: Omit<CreateDocumentOptions, 'keyStore'>
  /** Credential for the relay's `onAuthenticate` hooks. */
  readonly token?: string | (() => string | Promise<string>)
  /** WebSocket implementation where there is no global one (Node 20: `ws`). */
  readonly WebSocketPolyfill?: WebSocketConstructor
  /** Reconnect timing of a connection made here. */
  readonly backoff?: BackoffOptions
  /** Further provider options (presence, batching, compaction). */
  readonly provider?: Pick<
    WebsocketProviderOptions,
    'presence' | 'compactAfter' | 'maxInFlight' | 'awareness'
  > & { readonly batch?: { readonly windowMs?: number; readonly maxMerge?: number } }
}

/** A live document returned by {@link openDocument}. */
export interface OpenedDocument {
  /** The document id (share it with `session.createInviteLink`, or store it to reopen). */
  readonly docId: string
  /** The synced `Y.Doc`. */
  readonly doc: Y.Doc
  /** Membership, sharing and keys of this document. */
  readonly session: DocumentSession
  /** The transport (status, synced, misbehaviour events; awareness). */
  readonly provider: WebsocketProvider
  /** Stop syncing, persist local state and release the connection if nothing else uses it. */
  close(): Promise<void>
}

const shared = new WeakMap<Identity, Map<string, RelayConnection>>()

/** The connection of `identity` to `url`, shared by every document it opens there. */
function connectionFor(options: OpenDocumentOptions): RelayConnection {
  const relay = options.relay
  if (relay instanceof RelayConnection) return relay
  const key = typeof relay === 'string' ? relay : relay.join(' ')
  let byUrl = shared.get(options.identity)
  if (byUrl === undefined) {
    byUrl = new Map()
    shared.set(options.identity, byUrl)
  }
  let connection = byUrl.get(key)
  if (connection === undefined) {
    connection = new RelayConnection({
      url: relay,
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(options.WebSocketPolyfill ? { WebSocketPolyfill: options.WebSocketPolyfill } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
    })
    byUrl.set(key, connection)
  }
  return connection
}

/**
 * Create, join or reopen a document in one call: it makes the session (new document, invite
 * link, or a `docId` this identity is a member of or was shared), binds a `Y.Doc` to it with
 * local state restored from `storage`, subscribes on the identity's shared connection to the
 * relay, and resolves once the document is synced (and the join, if any, completed).
 *
 * @example
 * ```ts
 * import { Identity, Role } from '@valv/crypto'
 * import { openDocument } from '@valv/provider-websocket'
 *
 * const me = await Identity.create({ displayName: 'Anna' })
 * const { doc, session } = await openDocument({ identity: me, relay: 'wss://relay.example.se' })
 * doc.getText('text').insert(0, 'Hej!')
 * const link = await session.createInviteLink({ role: Role.Editor })
 * // elsewhere: await openDocument({ identity: colleague, relay, invite: link })
 * ```
 */
export async function openDocument(options: OpenDocumentOptions): Promise<OpenedDocument> {
  if (options.invite !== undefined && options.docId !== undefined) {
    throw new WebsocketProviderError('invalid-argument', 'pass invite or docId, not both')
  }
  const { identity, storage } = options
  const keys = storage ? { keyStore: storage } : {}
  const session =
    options.invite !== undefined
      ? await DocumentSession.join(identity, options.invite, keys)
      : options.docId !== undefined
        ? await DocumentSession.open(identity, options.docId, keys)
        : await DocumentSession.create(identity, { ...options.create, ...keys })
  const extra = options.provider ?? {}
  const provider = new WebsocketProvider({
    ...extra,
    connection: connectionFor(options),
    doc: options.doc ?? new Y.Doc(),
    docId: session.docId,
    document: session,
    ...(storage ? { storage } : {}),
  } as WebsocketProviderOptions)
  try {
    await session.attach(provider)
    if (session.myIndex === undefined) await session.joined()
    await provider.whenSynced()
  } catch (e) {
    await provider.destroy()
    throw e
  }
  return {
    docId: session.docId,
    doc: provider.doc,
    session,
    provider,
    close: () => provider.destroy(),
  }
}
