import { DocumentSession, Identity, type KeyStore, PublicCard, type Role } from '@valv/crypto'
import { LocalRelay } from './local-relay.js'

/** Options of {@link sharedDocument}. */
export interface SharedDocumentOptions {
  /** A key store per session (default none: nothing outlives the session object). */
  readonly keyStore?: () => KeyStore
}

/** A document shared by real `DocumentSession`s, every entry verified as the relay does. */
export interface SharedDocument {
  readonly docId: string
  /** The creator, admin at chain index 0. */
  readonly admin: DocumentSession
  /** One session per requested role, in the order asked for; each has joined. */
  readonly members: DocumentSession[]
  /** `identities[0]` is the admin's, then one per member. */
  readonly identities: Identity[]
  /** The in-memory relay the chain is appended through (later changes go through it too). */
  readonly relay: LocalRelay
  /** Every membership entry appended so far, genesis first. */
  chain(): Uint8Array[]
  /**
   * A fresh session of person `i` (0 = admin) that has verified the current chain, as a
   * device's key store would hold it, attached to nothing: attach it to a provider.
   */
  open(i: number): Promise<DocumentSession>
}

const NAMES = ['Anna', 'Bo', 'Cai', 'Dana', 'Eli', 'Fred', 'Gun', 'Hedda', 'Ivar', 'Jon']

/**
 * Create a document and share it with one new identity per entry of `roles` (admin Anna first,
 * then Bo, Cai, …); each member has joined when this resolves. Real keys, real signatures, the
 * real membership chain, appended through a {@link LocalRelay}: the one envelope format every
 * test runs on. To put the document on a real relay, send `chain()` as `membership-append`
 * frames (the relay verifies each entry again).
 */
export async function sharedDocument(
  roles: readonly Role[] = [],
  options: SharedDocumentOptions = {},
): Promise<SharedDocument> {
  const store = () => (options.keyStore ? { keyStore: options.keyStore() } : {})
  const relay = new LocalRelay()
  const identities = [await Identity.create({ displayName: NAMES[0] as string })]
  const admin = await DocumentSession.create(identities[0] as Identity, store())
  await relay.connect(admin)
  const members: DocumentSession[] = []
  for (const [i, role] of roles.entries()) {
    const id = await Identity.create({ displayName: NAMES[(i + 1) % NAMES.length] as string })
    identities.push(id)
    await admin.share(PublicCard.parse(id.card.toString()), role)
    const s = await DocumentSession.open(id, admin.docId, store())
    await relay.connect(s)
    await s.joined()
    members.push(s)
  }
  return {
    docId: admin.docId,
    admin,
    members,
    identities,
    relay,
    chain: () => [...(relay.chains.get(admin.docId)?.entries ?? [])],
    async open(i) {
      const s = await DocumentSession.open(identities[i] as Identity, admin.docId, store())
      const entries = relay.chains.get(admin.docId)?.entries ?? []
      for (const [index, entry] of entries.entries()) await s.applyMembership(index, entry)
      return s
    },
  }
}
