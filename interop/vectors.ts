/**
 * Generator of the protocol test vectors in `packages/protocol/test/vectors/*.json`
 * (docs/protocol.md, "Test vectors"). Every vector but `chain.json` is a pure function of fixed
 * inputs and is recomputed by `interop/vectors.test.ts`; `chain.json` records a real
 * genesis → admit → join → rotate → remove run of `DocumentSession` (its randomness cannot be
 * fixed from outside), and the test re-verifies and re-reads it instead.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { bytesToHex as hex } from '@noble/hashes/utils.js'
import { type Heads, writeHeads } from '@valv/core'
import { DocumentSession, Identity, PublicCard, Role } from '@valv/crypto'
import {
  confirmationMessage,
  deriveDocId,
  domainMessage,
  type EnvelopeKindName,
  encodeConfirmation,
  encodeEnvelopeBody,
  encodeEnvelopeHeader,
  entryHash,
  joinSignature,
  type SnapshotHeader,
  snapshotId,
  u64Bytes,
  utf8,
} from '@valv/protocol'
import { encodePresence } from '@valv/provider-websocket'
import { LocalRelay } from '@valv/test-utils'
import { encodeFrame, type Frame, WIRE_VERSION } from '@valv/wire'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { ClientIds } from '../packages/core/src/client-ids.js'
import { encodeSnapshotBody } from '../packages/core/src/snapshot.js'
import { epochKeys } from '../packages/crypto/src/bundle.js'
import { admissionKeys } from '../packages/crypto/src/invite.js'
import type { KeyRing } from '../packages/crypto/src/keyring.js'
import { PartTag } from '../packages/crypto/src/payload.js'
import {
  aeadSealWithNonce,
  keyCommitment,
  type SuiteId,
} from '../packages/crypto/src/primitives/aead.js'
import { blobId, encryptBlob } from '../packages/crypto/src/primitives/blob-stream.js'
import { hkdf32 } from '../packages/crypto/src/primitives/kdf.js'
import { type PaddingPolicy, pad, padmeLength } from '../packages/crypto/src/primitives/padding.js'
import { hintKey, recipientHint } from '../packages/crypto/src/recipient-hint.js'

/** `n` bytes counting up from `start` (mod 256): readable fixed inputs. */
export const seq = (n: number, start = 0): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff)

/** Bytes of a hex string. */
export const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))

const CREATOR = seq(32, 0x01)
const NONCE = new Uint8Array(16).fill(7)
/** The fixed document of the deterministic vectors. */
export const DOC_ID = deriveDocId(ed25519.getPublicKey(CREATOR), NONCE)
const EPOCH_SECRET = seq(32, 0x11)
const AUTHOR = seq(32, 0x31)

function epochKeysVector(epoch: number, secret: Uint8Array) {
  const k = epochKeys(DOC_ID, epoch, secret)
  return {
    docId: DOC_ID,
    epoch,
    secret: hex(secret),
    salt: hex(domainMessage('epoch', utf8(DOC_ID), u64Bytes(epoch))),
    content: hex(k.content as Uint8Array),
    roster: hex(k.roster),
    keyCommitment: hex(keyCommitment(secret)),
  }
}

function payloadAad(entryIndex: number, tag: number) {
  return {
    docId: DOC_ID,
    entryIndex,
    tag,
    aad: hex(domainMessage('payload', utf8(DOC_ID), u64Bytes(entryIndex), new Uint8Array([tag]))),
  }
}

/** A recipient hint computed from both sides: the signer's and the recipient device's. */
function recipientHintVector(entryIndex: number) {
  const signerSecret = seq(32, 0x71)
  const deviceSecret = seq(32, 0x81)
  const signerKey = ed25519.getPublicKey(signerSecret)
  const deviceKey = ed25519.getPublicKey(deviceSecret)
  const shared = hintKey(signerSecret, deviceKey) as Uint8Array
  const recipientSide = hintKey(deviceSecret, signerKey) as Uint8Array
  if (hex(shared) !== hex(recipientSide)) throw new Error('hint keys differ')
  return {
    docId: DOC_ID,
    entryIndex,
    tag: PartTag.inviteeBox,
    signerSecret: hex(signerSecret),
    signerKey: hex(signerKey),
    deviceSecret: hex(deviceSecret),
    deviceKey: hex(deviceKey),
    shared: hex(shared),
    hint: hex(recipientHint(shared, DOC_ID, entryIndex, PartTag.inviteeBox)),
  }
}

function joinAdmission() {
  const secret = seq(32, 0x51)
  const joiner = seq(32, 0x61)
  const joiningKey = ed25519.getPublicKey(joiner)
  const admitIndex = 1
  const adm = admissionKeys(DOC_ID, secret)
  const message = domainMessage('admission', utf8(DOC_ID), u64Bytes(admitIndex), joiningKey)
  return {
    docId: DOC_ID,
    admissionSecret: hex(secret),
    admissionSigningSecret: hex(adm.signingSecret),
    admissionKey: hex(adm.publicKey),
    wrapKey: hex(adm.wrapKey),
    admitIndex,
    joiningKey: hex(joiningKey),
    message: hex(message),
    signature: hex(ed25519.sign(message, adm.signingSecret)),
  }
}

/** One sealed envelope from fixed inputs (the steps of `DocumentSession.seal`). */
function sealEnvelope(o: {
  suite: SuiteId
  kind: EnvelopeKindName
  epoch: number
  author: number
  counter: number
  plaintext: Uint8Array
  padding: PaddingPolicy
  nonce: Uint8Array
  snapshot?: SnapshotHeader
}) {
  const content = epochKeys(DOC_ID, o.epoch, EPOCH_SECRET).content as Uint8Array
  const header = encodeEnvelopeHeader(o)
  const aad = domainMessage('envelope-aad', utf8(DOC_ID), header)
  const padded = pad(o.plaintext, o.padding)
  const sealed = aeadSealWithNonce(o.suite, content, o.nonce, padded, aad)
  const signed = encodeEnvelopeBody(header, sealed)
  const envelope = joinSignature(
    signed,
    ed25519.sign(domainMessage('envelope', utf8(DOC_ID), signed), AUTHOR),
  )
  return {
    docId: DOC_ID,
    epochSecret: hex(EPOCH_SECRET),
    authorKey: hex(ed25519.getPublicKey(AUTHOR)),
    suite: o.suite,
    kind: o.kind,
    epoch: o.epoch,
    author: o.author,
    counter: o.counter,
    ...(o.snapshot === undefined
      ? {}
      : {
          snapshot: {
            upToSeq: o.snapshot.upToSeq,
            prevSeq: o.snapshot.prevSeq,
            prev: hex(o.snapshot.prev),
          },
        }),
    padding: typeof o.padding === 'string' ? o.padding : `bucket:${o.padding.bucket}`,
    plaintext: hex(o.plaintext),
    nonce: hex(o.nonce),
    header: hex(header),
    aad: hex(aad),
    padded: hex(padded),
    envelope: hex(envelope),
  }
}

/** A Yjs v1 update inserting `text` into the root Y.Text `name`, from client `client`. */
export function textUpdate(client: number, name: string, text: string): Uint8Array {
  const doc = new Y.Doc()
  doc.clientID = client
  doc.getText(name).insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

function envelopes() {
  const kinds: EnvelopeKindName[] = ['update', 'snapshot', 'presence', 'state', 'checkpoint']
  const out = kinds.map((kind, i) =>
    sealEnvelope({
      suite: 1,
      kind,
      epoch: 0,
      author: 0,
      counter: i + 1,
      plaintext: textUpdate(1, 'text', `envelope ${kind}`),
      padding: 'padme',
      nonce: seq(24, 0x80 + i),
      ...(kind === 'snapshot'
        ? { snapshot: { upToSeq: 3, prevSeq: 0, prev: new Uint8Array(32) } }
        : {}),
    }),
  )
  out.push(
    sealEnvelope({
      suite: 2,
      kind: 'update',
      epoch: 300,
      author: 200,
      counter: 70000,
      plaintext: utf8('AES-256-GCM suite, multi-byte varuints'),
      padding: 'none',
      nonce: seq(24, 0xc0),
    }),
  )
  return out
}

/** The member who confirms the snapshot vector (chain index 2, a writer other than its author). */
const CONFIRMER = seq(32, 0x41)

function snapshot() {
  const doc = new Y.Doc({ gc: true })
  doc.clientID = 1
  doc.getText('text').insert(0, 'snapshot text')
  const counters: Heads = new Map([
    ['aa'.repeat(32), 3],
    ['bb'.repeat(32), 12],
  ])
  const clientIds = new ClientIds([
    [1, 'aa'.repeat(32)],
    [300, 'bb'.repeat(32)],
    [7, 'bb'.repeat(32)],
  ])
  const state = Y.encodeStateAsUpdateV2(doc)
  const position: SnapshotHeader = { upToSeq: 15, prevSeq: 4, prev: seq(32, 0xe0) }
  const body = encodeSnapshotBody({ gc: true, counters, state, clientIds })
  const env = sealEnvelope({
    suite: 1,
    kind: 'snapshot',
    epoch: 0,
    author: 0,
    counter: 0,
    plaintext: body,
    padding: 'padme',
    nonce: seq(24, 0x90),
    snapshot: position,
  })
  const sealed = unhex(env.envelope)
  const id = snapshotId(DOC_ID, sealed)
  const message = confirmationMessage(DOC_ID, id)
  const signature = ed25519.sign(message, CONFIRMER)
  return {
    docId: DOC_ID,
    upToSeq: position.upToSeq,
    prevSeq: position.prevSeq,
    prev: hex(position.prev),
    gc: true,
    counters: Object.fromEntries(counters),
    clientIds: { ['aa'.repeat(32)]: [1], ['bb'.repeat(32)]: [7, 300] },
    state: hex(state),
    text: 'snapshot text',
    body: hex(body),
    // The same body as written before client-id binding: no trailing table.
    bodyWithoutClientIds: hex(encodeSnapshotBody({ gc: true, counters, state })),
    envelope: env,
    idInput: hex(domainMessage('snapshot-id', utf8(DOC_ID), sealed)),
    id: hex(id),
    confirmation: {
      author: 2,
      key: hex(ed25519.getPublicKey(CONFIRMER)),
      message: hex(message),
      signature: hex(signature),
      bytes: hex(encodeConfirmation(2, signature)),
    },
  }
}

function presence() {
  const awareness = {
    session: '0123456789abcdef01234567',
    counter: 7,
    sentAt: 1_800_000_000_123,
    type: 'awareness' as const,
    update: seq(12, 0x30),
  }
  const headsMsg = {
    session: '0123456789abcdef01234567',
    counter: 8,
    sentAt: 1_800_000_000_456,
    acks: ['fedcba9876543210fedcba98', '00112233445566778899aabb'],
    type: 'heads' as const,
    heads: new Map([
      ['bb'.repeat(32), 12],
      ['aa'.repeat(32), 3],
    ]),
    lastSeq: 15,
  }
  const bye = {
    session: '0123456789abcdef01234567',
    counter: Number.MAX_SAFE_INTEGER,
    sentAt: 1_800_000_000_789,
    type: 'bye' as const,
  }
  const heads = encoding.createEncoder()
  writeHeads(heads, headsMsg.heads)
  return [awareness, headsMsg, bye].map((m, i) => {
    const plaintext = encodePresence(m)
    return {
      ...m,
      ...('update' in m
        ? { update: hex(m.update) }
        : 'heads' in m
          ? { heads: Object.fromEntries(m.heads) }
          : {}),
      plaintext: hex(plaintext),
      envelope: sealEnvelope({
        suite: 1,
        kind: 'presence',
        epoch: 0,
        author: 0,
        counter: 0,
        plaintext,
        padding: 'padme',
        nonce: seq(24, 0xa0 + i),
      }),
    }
  })
}

function fileChunks() {
  const key = seq(32, 0x20)
  const prefix = seq(16, 0xf0)
  const roster = epochKeys(DOC_ID, 0, EPOCH_SECRET).roster
  const idKey = hkdf32(roster, utf8(DOC_ID), 'valv/v1/blob-id-key')
  const plain = utf8('Beslut: budgeten för 2027 antas.\n'.repeat(3))
  const padded = new Uint8Array(padmeLength(plain.length + 8))
  new DataView(padded.buffer).setBigUint64(0, BigInt(plain.length))
  padded.set(plain, 8)
  const streams = [
    { plaintext: plain, chunkSize: 16, paddedFile: false },
    { plaintext: new Uint8Array(0), chunkSize: 65536, paddedFile: false },
    { plaintext: padded, chunkSize: 32, paddedFile: true },
  ]
  return {
    docId: DOC_ID,
    epochSecret: hex(EPOCH_SECRET),
    blobIdKey: hex(idKey),
    streams: streams.map((s) => ({
      key: hex(key),
      fileKey: hex(s.paddedFile ? Uint8Array.from([...key, 1]) : key),
      prefix: hex(prefix),
      chunkSize: s.chunkSize,
      plaintext: hex(s.plaintext),
      content: hex(s.paddedFile ? plain : s.plaintext),
      ciphertext: hex(encryptBlob(s.plaintext, { key, prefix, chunkSize: s.chunkSize }).ciphertext),
      blobId: blobId(idKey, key),
    })),
  }
}

function frames() {
  const docId = DOC_ID
  const b = seq(5, 0xd0)
  const c = seq(4, 0xc0)
  const all: Frame[] = [
    { type: 'auth', version: WIRE_VERSION, token: 'eyJ.token' },
    { type: 'auth-ok', sessionId: 's-1' },
    { type: 'subscribe', docId, sinceSeq: 300, snapshotSeq: 0, membershipFrom: 2 },
    { type: 'unsubscribe', docId },
    { type: 'envelope', docId, ref: 7, envelope: b },
    { type: 'deliver', docId, seq: 128, envelope: b },
    { type: 'ack', docId, ref: 7, seq: 128 },
    { type: 'error', docId, ref: 7, code: 'forbidden', message: 'role' },
    { type: 'synced', docId, headSeq: 128 },
    { type: 'membership-append', docId, ref: 8, index: 3, entry: b },
    { type: 'membership', docId, index: 3, entry: b },
    { type: 'snapshot-upload', docId, ref: 9, prevSeq: 0, upToSeq: 128, snapshot: b },
    { type: 'snapshot', docId, upToSeq: 128, snapshot: b, confirmed: true, confirmation: c },
    {
      type: 'snapshot',
      docId,
      upToSeq: 130,
      snapshot: b,
      confirmed: false,
      confirmation: new Uint8Array(),
    },
    { type: 'presence', docId, payload: b },
    { type: 'ping', nonce: 1 },
    { type: 'pong', nonce: 1 },
    { type: 'snapshot-confirm', docId, ref: 10, upToSeq: 130, confirmation: c },
  ]
  return all.map((f) => ({
    frame: Object.fromEntries(
      Object.entries(f).map(([k, v]) => [k, v instanceof Uint8Array ? hex(v) : v]),
    ),
    bytes: hex(encodeFrame(f)),
  }))
}

/** Every deterministic vector file: name → contents. */
export async function deterministicVectors(): Promise<Record<string, unknown>> {
  return {
    'epoch-keys': [epochKeysVector(0, EPOCH_SECRET), epochKeysVector(300, seq(32, 0x12))],
    'payload-aad': [payloadAad(0, 1), payloadAad(2, 9), payloadAad(70000, 10)],
    'join-admission': joinAdmission(),
    'recipient-hint': [recipientHintVector(1), recipientHintVector(70000)],
    envelopes: envelopes(),
    snapshot: snapshot(),
    presence: presence(),
    'file-chunks': fileChunks(),
    frames: frames(),
  }
}

/** What a reader of `chain.json` must find: its member index, keys and plaintexts. */
export interface ChainReader {
  readonly name: string
  readonly identity: string
  readonly memberIndex: number
  readonly epochs: Record<string, { secret?: string; content?: string; roster: string }>
}

const PASSPHRASE = 'correct horse battery staple'
const ring = (s: DocumentSession) => (s as unknown as { chain: { ring: KeyRing } }).chain.ring

/**
 * Run genesis → admit → join (twice) → rotate → remove (set-role none + rotate) with real
 * sessions and record the chain, the identities (passphrase exports, cheap scrypt) and what
 * each reader must derive.
 */
export async function recordChain() {
  const relay = new LocalRelay()
  const anna = await Identity.create({ displayName: 'Anna Admin' })
  const bo = await Identity.create({ displayName: 'Bo Editor' })
  const cy = await Identity.create({ displayName: 'Cy Viewer' })
  const admin = await DocumentSession.create(anna, { padding: 'padme' })
  await relay.connect(admin)
  const join = async (who: Identity, role: Role) => {
    await admin.share(PublicCard.parse(who.card.toString()), role)
    const s = await DocumentSession.open(who, admin.docId)
    await relay.connect(s)
    await s.joined()
    return s
  }
  const boS = await join(bo, Role.Editor)
  const early = { author: 'anna', text: 'Hej från epok 0' }
  const sealedEarly = await admin.seal('update', textUpdate(11, 'text', early.text), 1)
  const cyS = await join(cy, Role.Viewer)
  await admin.rotate()
  await admin.unshare(cy.userId)
  const late = { author: 'bo', text: 'Efter att Cy togs bort' }
  const sealedLate = await boS.seal('update', textUpdate(22, 'text', late.text), 1)
  const both = new Y.Doc()
  Y.applyUpdate(both, textUpdate(11, 'text', early.text))
  Y.applyUpdate(both, textUpdate(22, 'text', late.text))
  const chain = relay.chains.get(admin.docId)?.entries ?? []
  const docId = admin.docId
  const reader = async (name: string, id: Identity, s: DocumentSession): Promise<ChainReader> => ({
    name,
    identity: await id.export(PASSPHRASE, { N: 2 ** 10 }),
    memberIndex: s.myIndex as number,
    epochs: Object.fromEntries(
      [...ring(s).epochs.values()].map((e) => [
        String(e.epoch),
        {
          ...(e.secret === undefined ? {} : { secret: hex(e.secret) }),
          ...(e.content === undefined ? {} : { content: hex(e.content) }),
          roster: hex(e.roster),
        },
      ]),
    ),
  })
  return {
    description:
      'A real DocumentSession run: genesis, admit+join (Bo, editor), admit+join (Cy, viewer), ' +
      'rotate, set-role none (Cy) + rotate. Identity exports use scrypt N = 2^10.',
    docId,
    passphrase: PASSPHRASE,
    chain: chain.map((e) => hex(e)),
    hashes: chain.map((e) => hex(entryHash(docId, e))),
    kinds: chain.map((e) => ['', 'genesis', 'admit', 'join', 'set-role', 'rotate'][e[1] ?? 0]),
    readers: [
      await reader('anna', anna, admin),
      await reader('bo', bo, boS),
      await reader('cy', cy, cyS),
    ],
    text: both.getText('text').toString(),
    envelopes: [
      { kind: 'update', epoch: 0, ...early, envelope: hex(sealedEarly) },
      { kind: 'update', epoch: 2, ...late, envelope: hex(sealedLate) },
    ],
  }
}
