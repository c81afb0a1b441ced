import { ed25519 } from '@noble/curves/ed25519.js'
import { deriveDocId, HistoryPolicy, Role } from '@valv/protocol'
import { epochKeys } from './bundle.js'
import { creatorSigningSecret, type DocumentKey } from './document-key.js'
import { buildEntry } from './entry-builder.js'
import { entryParts } from './entry-parts.js'
import type { Identity } from './identity.js'
import { keyCommitment, Suite } from './primitives/aead.js'
import { randomBytes } from './primitives/bytes.js'
import type { SessionChain } from './session-chain.js'
import type { CreateDocumentOptions } from './session-options.js'

/**
 * The id of a document `me` creates with genesis nonce `nonce`. It depends on the creator's
 * per-document key, which for joiners depends on the id: so the creator's key is derived from
 * the nonce instead (see `creatorSigningSecret`).
 */
export function genesisDocId(me: Identity, nonce: Uint8Array): string {
  return deriveDocId(ed25519.getPublicKey(creatorSigningSecret(me, nonce)), nonce)
}

/**
 * `DocumentSession.create`: switch `key` to the creator's key, start epoch 0, and build, sign
 * and apply the genesis entry of `chain` (whose id is `genesisDocId(me, nonce)`). Resolves with
 * the encoded entry, to send once a provider is attached.
 */
export async function writeGenesis(
  chain: SessionChain,
  key: DocumentKey,
  me: Identity,
  nonce: Uint8Array,
  options: CreateDocumentOptions,
): Promise<Uint8Array> {
  const creatorSecret = creatorSigningSecret(me, nonce)
  key.use(creatorSecret)
  const secret = randomBytes(32)
  const keys = epochKeys(chain.docId, 0, secret)
  chain.ring.epochs.set(0, keys)
  const suite = options.suite ?? Suite.XChaCha20Poly1305
  const bytes = buildEntry(
    chain.state,
    key.requireSecret(),
    {
      kind: 'genesis',
      nonce,
      suite,
      writeRole: options.writeRole === 'commenter' ? Role.Commenter : Role.Editor,
      historyPolicy:
        options.historyPolicy === 'need-to-know' ? HistoryPolicy.needToKnow : HistoryPolicy.share,
      keyCommitment: keyCommitment(secret),
    },
    (index) =>
      entryParts.genesis(
        chain.ring,
        chain.state,
        index,
        me,
        ed25519.getPublicKey(creatorSecret),
        keys,
        options.recovery,
      ),
  )
  await chain.applyEntry(0, bytes, true)
  return bytes
}
