import { ed25519 } from '@noble/curves/ed25519.js'
import {
  admissionUsable,
  domainMessage,
  equalBytes,
  HistoryPolicy,
  type MembershipEntry,
  type MembershipState,
  Role,
  toHex,
  utf8,
} from '@valv/protocol'
import { type EpochKeys, encodeBundle } from './bundle.js'
import type { PublicCard } from './card.js'
import { type Identity, secretsOf } from './identity.js'
import { admissionKeys } from './invite.js'
import type { KeyRing, PendingParts } from './keyring.js'
import { encodeMemberCert } from './member-cert.js'
import { decodeParts, type Part, PartTag } from './payload.js'
import { aeadOpen, aeadSeal, type SuiteId } from './primitives/aead.js'
import { concatBytes } from './primitives/bytes.js'
import { openKemBox, sealToKem } from './primitives/hybrid-box.js'
import { HINT_LENGTH, hintKey, recipientHint } from './recipient-hint.js'

/** Who is reading a chain: decides which sealed parts are addressed to it. */
export interface Reader {
  /** The local identity (absent for a recovery session). */
  readonly me?: Identity
  /** The organisation recovery secret (recovery sessions only). */
  readonly recovery?: Uint8Array
  /** The local member's chain index, once a member. */
  readonly myIndex?: number
}

function certificate(
  ring: KeyRing,
  index: number,
  me: Identity,
  key: Uint8Array,
  epoch: number,
): Part {
  const binding = ed25519.sign(
    domainMessage('document-key', utf8(ring.docId), key),
    secretsOf(me).deviceSecret,
  )
  const cert = encodeMemberCert({
    userKey: me.userKey,
    displayName: me.displayName,
    device: me.device,
    binding,
  })
  return {
    tag: PartTag.certificate,
    to: 0,
    data: ring.rosterSeal(epoch, index, PartTag.certificate, cert),
  }
}

const box = (
  ring: KeyRing,
  index: number,
  tag: number,
  to: number,
  recipient: Uint8Array,
  plaintext: Uint8Array,
): Part => ({
  tag,
  to,
  data: sealToKem(recipient, plaintext, ring.boxAad(index, tag)),
})

const wrap = (
  ring: KeyRing,
  index: number,
  tag: number,
  to: number,
  secret: Uint8Array,
  plaintext: Uint8Array,
): Part => ({
  tag,
  to,
  data: aeadSeal(
    ring.suite(),
    admissionKeys(ring.docId, secret).wrapKey,
    plaintext,
    ring.boxAad(index, tag),
  ),
})

/** Builders of each entry kind's payload parts, and the reader that takes parts apart. */
export const entryParts = {
  /** Genesis: creator's certificate, epoch 0 sealed to the creator and the recovery key. */
  genesis(
    ring: KeyRing,
    _state: MembershipState,
    index: number,
    me: Identity,
    key: Uint8Array,
    keys: EpochKeys,
    recovery?: Uint8Array,
  ): Part[] {
    const bundle = encodeBundle([keys])
    const parts = [
      certificate(ring, index, me, key, 0),
      box(ring, index, PartTag.selfBox, 0, me.device.kemKey, bundle),
    ]
    if (recovery !== undefined) {
      parts.push({
        tag: PartTag.recoveryKey,
        to: 0,
        data: ring.rosterSeal(0, index, PartTag.recoveryKey, recovery),
      })
      parts.push(box(ring, index, PartTag.recoveryBox, 0, recovery, bundle))
    }
    return parts
  },

  /** Admit: keys for the admission holder, its secret for every admin, and for the invitee. */
  admit(
    ring: KeyRing,
    state: MembershipState,
    index: number,
    secret: Uint8Array,
    card: PublicCard | undefined,
    signingSecret: Uint8Array,
  ): Part[] {
    const needToKnow = state.historyPolicy === HistoryPolicy.needToKnow
    const parts = [
      wrap(ring, index, PartTag.linkWrap, 0, secret, ring.bundleFor(needToKnow, state.epoch)),
    ]
    for (const m of state.members) {
      const cert = ring.cert(m.index)
      if (m.role === Role.Admin && cert !== undefined) {
        parts.push(box(ring, index, PartTag.adminBox, m.index, cert.device.kemKey, secret))
      }
    }
    if (card !== undefined) {
      for (const d of card.devices) {
        // The hint lets the device find its box without opening the others (docs/protocol.md).
        const key = hintKey(signingSecret, d.deviceKey)
        const hint =
          key === undefined
            ? new Uint8Array(HINT_LENGTH)
            : recipientHint(key, ring.docId, index, PartTag.inviteeBox)
        const b = box(ring, index, PartTag.inviteeBox, 0, d.kemKey, secret)
        parts.push({ ...b, data: concatBytes(hint, b.data) })
      }
      parts.push({
        tag: PartTag.note,
        to: 0,
        data: ring.rosterSeal(state.epoch, index, PartTag.note, card.userKey),
      })
    }
    return parts
  },

  /** Join: the joiner's certificate, and its keys sealed to itself (to reopen later). */
  join(
    ring: KeyRing,
    state: MembershipState,
    index: number,
    me: Identity,
    key: Uint8Array,
  ): Part[] {
    return [
      certificate(ring, index, me, key, state.epoch),
      box(ring, index, PartTag.selfBox, 0, me.device.kemKey, ring.fullBundle()),
    ]
  },

  /**
   * Rotate: the new epoch for every remaining member, every admission still usable at the
   * rotation's signed time `at` (not revoked, expired or used up: whoever holds an expired link
   * gets nothing from here on), and the recovery key.
   */
  rotate(
    ring: KeyRing,
    state: MembershipState,
    index: number,
    keys: EpochKeys,
    at: number,
  ): Part[] {
    const bundle = encodeBundle([keys])
    const parts: Part[] = []
    for (const m of state.members) {
      const cert = ring.cert(m.index)
      if (m.role !== Role.None && cert !== undefined) {
        parts.push(box(ring, index, PartTag.memberBox, m.index, cert.device.kemKey, bundle))
      }
    }
    for (const a of state.admissions) {
      const secret = ring.admissions.get(a.index)
      if (admissionUsable(a, at) && secret !== undefined)
        parts.push(wrap(ring, index, PartTag.admissionWrap, a.index, secret, bundle))
    }
    if (ring.recoveryKey !== undefined)
      parts.push(box(ring, index, PartTag.recoveryBox, 0, ring.recoveryKey, bundle))
    return parts
  },

  /**
   * Take from the new entry `e` whatever is addressed to `reader`; parts that may open later
   * wait in `ring.pending`. Returns whether new keys or admission secrets were learned (which
   * may unlock waiting parts of other entries: then call {@link entryParts.retry}).
   */
  take(ring: KeyRing, state: MembershipState, e: MembershipEntry, reader: Reader): boolean {
    const entry = { index: e.index, signer: e.signer, version: e.version ?? 2 }
    return settle(ring, state, { ...entry, parts: decodeParts(e.payload) }, reader)
  },

  /** Try every waiting part again; returns whether anything new was learned. */
  retry(ring: KeyRing, state: MembershipState, reader: Reader): boolean {
    let learned = false
    for (const p of [...ring.pending.values()]) {
      if (settle(ring, state, p, reader)) learned = true
    }
    return learned
  },
}

/** Read the parts of `p` for `reader`; keep in `ring.pending` only those that may open later. */
function settle(ring: KeyRing, state: MembershipState, p: PendingParts, reader: Reader): boolean {
  let learned = false
  const waiting: Part[] = []
  for (const part of p.parts) {
    const outcome = absorbPart(ring, state, p, part, reader)
    if (outcome === 'retry') waiting.push(part)
    if (outcome === 'learned') learned = true
  }
  if (waiting.length > 0) ring.pending.set(p.index, { ...p, parts: waiting })
  else ring.pending.delete(p.index)
  return learned
}

type Outcome = 'learned' | 'done' | 'retry'

function kemOpen(
  ring: KeyRing,
  reader: Reader,
  e: PendingParts,
  p: Part,
  secret?: Uint8Array,
  data = p.data,
): Uint8Array | undefined {
  const key = secret ?? (reader.me === undefined ? undefined : secretsOf(reader.me).kemSecret)
  if (key === undefined) return undefined
  try {
    return openKemBox(key, data, ring.boxAad(e.index, p.tag))
  } catch {
    return undefined
  }
}

function unwrap(
  ring: KeyRing,
  admission: number,
  e: PendingParts,
  p: Part,
): Uint8Array | undefined {
  const secret = ring.admissions.get(admission)
  if (secret === undefined) return undefined
  try {
    return aeadOpen(
      ring.suite() as SuiteId,
      admissionKeys(ring.docId, secret).wrapKey,
      p.data,
      ring.boxAad(e.index, p.tag),
    )
  } catch {
    return undefined
  }
}

/** Whether `bytes` (an epoch-key bundle, if any) taught `ring` new keys. */
function learnedKeys(ring: KeyRing, state: MembershipState, bytes?: Uint8Array): Outcome {
  return bytes !== undefined && ring.addEncoded(state, bytes) ? 'learned' : 'done'
}

function absorbPart(
  ring: KeyRing,
  state: MembershipState,
  e: PendingParts,
  p: Part,
  reader: Reader,
): Outcome {
  switch (p.tag) {
    case PartTag.certificate:
      // Opened and verified when first needed (KeyRing.cert), not for every member on join.
      if (!ring.rosterKnown(p.data)) return 'retry'
      ring.sealedCerts.set(e.index, { signer: e.signer, data: p.data })
      return 'done'
    case PartTag.recoveryKey: {
      const plain = ring.rosterOpen(e.index, p.tag, p.data)
      if (plain === undefined) return 'retry'
      ring.recoveryKey = plain
      return 'done'
    }
    case PartTag.note:
      if (!ring.rosterKnown(p.data)) return 'retry'
      ring.sealedNotes.set(e.index, p.data)
      return 'done'
    case PartTag.selfBox:
      if (reader.myIndex === undefined) return 'retry'
      return reader.myIndex === e.index
        ? learnedKeys(ring, state, kemOpen(ring, reader, e, p))
        : 'done'
    case PartTag.recoveryBox:
      return reader.recovery === undefined
        ? 'done'
        : learnedKeys(ring, state, kemOpen(ring, reader, e, p, reader.recovery))
    case PartTag.memberBox:
      if (reader.myIndex === undefined) return 'retry'
      return reader.myIndex === p.to
        ? learnedKeys(ring, state, kemOpen(ring, reader, e, p))
        : 'done'
    case PartTag.adminBox:
    case PartTag.inviteeBox: {
      if (p.tag === PartTag.adminBox && (reader.myIndex === undefined || reader.myIndex !== p.to)) {
        return reader.myIndex === undefined ? 'retry' : 'done'
      }
      if (
        p.tag === PartTag.inviteeBox &&
        (reader.myIndex !== undefined || ring.admissions.has(e.index))
      )
        return 'done'
      const data = p.tag === PartTag.inviteeBox ? inviteeBox(ring, reader, e, p) : p.data
      if (data === undefined) return 'done'
      const secret = kemOpen(ring, reader, e, p, undefined, data)
      if (secret === undefined || secret.length !== 32) return 'done'
      ring.admissions.set(e.index, secret)
      return 'learned'
    }
    case PartTag.linkWrap:
      return ring.admissions.has(e.index)
        ? learnedKeys(ring, state, unwrap(ring, e.index, e, p))
        : 'retry'
    case PartTag.admissionWrap:
      return ring.admissions.has(p.to)
        ? learnedKeys(ring, state, unwrap(ring, p.to, e, p))
        : 'retry'
    default:
      return 'done'
  }
}

/**
 * The box of an invitee part if it may be this reader's: from membership version 3 only when
 * its recipient hint matches (one HMAC, no KEM), before that always (trial decryption).
 */
function inviteeBox(
  ring: KeyRing,
  reader: Reader,
  e: PendingParts,
  p: Part,
): Uint8Array | undefined {
  if (e.version < 3) return p.data
  if (reader.me === undefined || p.data.length < HINT_LENGTH) return undefined
  const signer = toHex(e.signer)
  if (!ring.hintKeys.has(signer)) {
    ring.hintKeys.set(signer, hintKey(secretsOf(reader.me).deviceSecret, e.signer))
  }
  const key = ring.hintKeys.get(signer)
  if (key === undefined) return undefined
  const want = recipientHint(key, ring.docId, e.index, p.tag)
  return equalBytes(want, p.data.subarray(0, HINT_LENGTH))
    ? p.data.subarray(HINT_LENGTH)
    : undefined
}
