import { ed25519 } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'
import {
  deriveDocId,
  domainMessage,
  type EntryBody,
  type EnvelopeHeader,
  encodeEntryFields,
  encodeEnvelopeBody,
  encodeEnvelopeHeader,
  joinSignature,
  MembershipState,
  Role,
  u64Bytes,
  utf8,
} from '../src/index.js'

/** A per-document signing key. */
export interface Key {
  readonly secret: Uint8Array
  readonly pub: Uint8Array
}

export const key = (seed?: number): Key => {
  const secret =
    seed === undefined ? ed25519.utils.randomSecretKey() : sha256(new Uint8Array([seed]))
  return { secret, pub: ed25519.getPublicKey(secret) }
}

export const now = () => Math.floor(Date.now() / 1000)

/** Build and sign an entry extending `state`. */
export function entry(
  state: MembershipState,
  signer: Key,
  body: EntryBody,
  extra: {
    at?: number
    payload?: Uint8Array
    index?: number
    prev?: Uint8Array
    version?: number
  } = {},
): Uint8Array {
  const signed = encodeEntryFields({
    ...(extra.version === undefined ? {} : { version: extra.version }),
    index: extra.index ?? state.length,
    prev: extra.prev ?? state.head,
    at: extra.at ?? now(),
    signer: signer.pub,
    body,
    payload: extra.payload ?? new Uint8Array([0]),
  })
  const sig = ed25519.sign(domainMessage('membership', utf8(state.docId), signed), signer.secret)
  return joinSignature(signed, sig)
}

/** A chain with an admin (genesis), and helpers to admit and join members. */
export function genesis(admin = key(1), nonce = new Uint8Array(16).fill(7)) {
  const docId = deriveDocId(admin.pub, nonce)
  const state = new MembershipState(docId)
  const bytes = entry(state, admin, {
    kind: 'genesis',
    nonce,
    suite: 1,
    writeRole: Role.Editor,
    historyPolicy: 0,
    keyCommitment: new Uint8Array(32).fill(1),
  })
  state.append(bytes)
  return { docId, state, admin, entries: [bytes] }
}

/** Admit and join `member` with `role`; returns the join entry's index. */
export function addMember(
  c: { state: MembershipState; admin: Key; entries: Uint8Array[] },
  member: Key,
  role: Role,
): number {
  const admission = key()
  const admit = entry(c.state, c.admin, {
    kind: 'admit',
    admissionKey: admission.pub,
    role,
    expiresAt: 0,
    maxUses: 1,
  })
  c.state.append(admit)
  c.entries.push(admit)
  const join = joinEntry(c.state, member, admission, c.state.length - 1)
  c.state.append(join)
  c.entries.push(join)
  return c.state.length - 1
}

export function joinEntry(
  state: MembershipState,
  member: Key,
  admission: Key,
  at: number,
  time?: number,
) {
  const admissionSignature = ed25519.sign(
    domainMessage('admission', utf8(state.docId), u64Bytes(at), member.pub),
    admission.secret,
  )
  return entry(
    state,
    member,
    { kind: 'join', admission: at, admissionSignature },
    time === undefined ? {} : { at: time },
  )
}

/** An envelope signed by `author` (ciphertext is opaque to the protocol layer). */
export function envelope(
  docId: string,
  author: Key,
  header: Partial<EnvelopeHeader> & { author: number },
  ciphertext = new Uint8Array(48).fill(9),
): Uint8Array {
  const headerBytes = encodeEnvelopeHeader({
    suite: 1,
    kind: 'update',
    epoch: 0,
    counter: 1,
    ...header,
  })
  const signed = encodeEnvelopeBody(headerBytes, ciphertext)
  return joinSignature(
    signed,
    ed25519.sign(domainMessage('envelope', utf8(docId), signed), author.secret),
  )
}
