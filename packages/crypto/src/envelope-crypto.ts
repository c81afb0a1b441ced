import {
  CryptoError,
  domainMessage,
  type EnvelopeKindName,
  encodeEnvelopeBody,
  encodeEnvelopeHeader,
  joinSignature,
  type MembershipState,
  type SnapshotHeader,
  snapshotId,
  utf8,
  verifyEnvelopeAsync,
} from '@valv/protocol'
import type { KeyRing } from './keyring.js'
import { aeadOpen, aeadSeal, type SuiteId } from './primitives/aead.js'
import { type PaddingPolicy, pad, unpad } from './primitives/padding.js'

/** What sealing and opening a document's envelopes needs from its session. */
export interface EnvelopeContext {
  readonly docId: string
  readonly state: MembershipState
  readonly ring: KeyRing
  readonly padding: PaddingPolicy
  /** Highest content counter per author index, raised by every seal and open. */
  readonly highest: Map<number, number>
}

/**
 * A verified and decrypted envelope, as {@link DocumentSession.open} returns it: the signature,
 * the author's role for its kind and its epoch were checked before the plaintext was decrypted.
 */
export interface OpenedEnvelope {
  /** Hex of the author's per-document key (what the author's `DocumentSession.author` says). */
  author: string
  /** The author's counter as signed (0 where the kind has none). */
  counter: number
  /** The decrypted plaintext, padding removed. */
  plaintext: Uint8Array
  /** Whether the author's role lets it write now (presence heads are believed only from writers). */
  writer: boolean
  /** For a snapshot: its signed header and its id (`snapshotId` of the sealed bytes). */
  snapshot?: SnapshotHeader & { id: Uint8Array }
}

const countsAsContent = (kind: EnvelopeKindName) =>
  kind === 'update' || kind === 'snapshot' || kind === 'state'

/** `DocumentSession.seal`: pad, encrypt under the current epoch, sign as member `author`. */
export async function sealEnvelope(
  ctx: EnvelopeContext,
  author: number,
  sign: (message: Uint8Array) => Promise<Uint8Array>,
  kind: EnvelopeKindName,
  plaintext: Uint8Array,
  counter: number,
  header?: SnapshotHeader,
): Promise<Uint8Array> {
  const epoch = ctx.state.epoch
  const content = ctx.ring.epochs.get(epoch)?.content
  if (content === undefined) throw new CryptoError('unknown-epoch', `no key for epoch ${epoch}`)
  const suite = ctx.state.suite
  const headerBytes = encodeEnvelopeHeader({
    suite,
    kind,
    epoch,
    author,
    counter,
    ...(header === undefined ? {} : { snapshot: header }),
  })
  const aad = domainMessage('envelope-aad', utf8(ctx.docId), headerBytes)
  const sealed = aeadSeal(suite as SuiteId, content, pad(plaintext, ctx.padding), aad)
  if (countsAsContent(kind)) {
    ctx.highest.set(author, Math.max(ctx.highest.get(author) ?? 0, counter))
  }
  const signed = encodeEnvelopeBody(headerBytes, sealed)
  const signature = await sign(domainMessage('envelope', utf8(ctx.docId), signed))
  return joinSignature(signed, signature)
}

/** `DocumentSession.open`: verify (signature, role, epoch), then decrypt. */
export async function openEnvelope(
  ctx: EnvelopeContext,
  self: number | undefined,
  kind: EnvelopeKindName,
  sealed: Uint8Array,
): Promise<OpenedEnvelope> {
  const v = await verifyEnvelopeAsync(ctx.state, sealed, {
    kind,
    formerWriters: true,
    attribute: true,
    ...(self === undefined ? {} : { selfIndex: self }),
  })
  const content = ctx.ring.epochs.get(v.epoch)?.content
  if (content === undefined) throw new CryptoError('unknown-epoch', `no key for epoch ${v.epoch}`)
  const aad = domainMessage('envelope-aad', utf8(ctx.docId), v.headerBytes)
  const plaintext = unpad(aeadOpen(v.suite as SuiteId, content, v.ciphertext, aad))
  if (countsAsContent(v.kind)) {
    ctx.highest.set(v.author, Math.max(ctx.highest.get(v.author) ?? 0, v.counter))
  }
  // Whether the author may write NOW: presence heads are believed only from writers.
  const writer = ctx.state.roleOf(v.author) >= ctx.state.writeRole
  const opened = { author: v.authorId, counter: v.counter, plaintext, writer }
  if (v.snapshot === undefined) return opened
  return { ...opened, snapshot: { ...v.snapshot, id: snapshotId(ctx.docId, sealed) } }
}
