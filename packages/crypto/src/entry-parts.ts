import { ed25519 } from '@noble/curves/ed25519.js'
import {
  admissionUsable,
  domainMessage,
  HistoryPolicy,
  type MembershipEntry,
  type MembershipState,
  Role,
  utf8,
} from '@valv/protocol'
import { type EpochKeys, encodeBundle } from './bundle.js'
import type { PublicCard } from './card.js'
import { type Identity, secretsOf } from './identity.js'
import { admissionKeys } from './invite.js'
import type { KeyRing } from './keyring.js'
import { decodeMemberCert, encodeMemberCert, verifyMemberCert } from './member-cert.js'
import { decodeParts, type Part, PartTag } from './payload.js'
import { aeadOpen, aeadSeal, type SuiteId } from './primitives/aead.js'
import { openKemBox, sealToKem } from './primitives/hybrid-box.js'

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
  ): Part[] {
    const needToKnow = state.historyPolicy === HistoryPolicy.needToKnow
    const parts = [
      wrap(ring, index, PartTag.linkWrap, 0, secret, ring.bundleFor(needToKnow, state.epoch)),
    ]
    for (const m of state.members) {
      const cert = ring.certs.get(m.index)
      if (m.role === Role.Admin && cert !== undefined) {
        parts.push(box(ring, index, PartTag.adminBox, m.index, cert.device.kemKey, secret))
      }
    }
    if (card !== undefined) {
      for (const d of card.devices)
        parts.push(box(ring, index, PartTag.inviteeBox, 0, d.kemKey, secret))
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
      const cert = ring.certs.get(m.index)
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
   * Take from entry `e` whatever is addressed to `reader`. Returns whether new keys or
   * admission secrets were learned (which may unlock parts of other entries).
   */
  absorb(ring: KeyRing, state: MembershipState, e: MembershipEntry, reader: Reader): boolean {
    let learned = false
    decodeParts(e.payload).forEach((p, i) => {
      const id = `${e.index}:${i}`
      if (ring.done.has(id)) return
      const outcome = absorbPart(ring, state, e, p, reader)
      if (outcome !== 'retry') ring.done.add(id)
      if (outcome === 'learned') learned = true
    })
    return learned
  },
}

type Outcome = 'learned' | 'done' | 'retry'

function kemOpen(
  ring: KeyRing,
  reader: Reader,
  e: MembershipEntry,
  p: Part,
  secret?: Uint8Array,
): Uint8Array | undefined {
  const key = secret ?? (reader.me === undefined ? undefined : secretsOf(reader.me).kemSecret)
  if (key === undefined) return undefined
  try {
    return openKemBox(key, p.data, ring.boxAad(e.index, p.tag))
  } catch {
    return undefined
  }
}

function unwrap(
  ring: KeyRing,
  admission: number,
  e: MembershipEntry,
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

function absorbPart(
  ring: KeyRing,
  state: MembershipState,
  e: MembershipEntry,
  p: Part,
  reader: Reader,
): Outcome {
  const keys = (bytes: Uint8Array | undefined): Outcome =>
    bytes !== undefined && ring.addEncoded(state, bytes) ? 'learned' : 'done'
  switch (p.tag) {
    case PartTag.certificate: {
      const plain = ring.rosterOpen(e.index, p.tag, p.data)
      if (plain === undefined) return 'retry'
      try {
        const cert = decodeMemberCert(plain)
        if (verifyMemberCert(cert, ring.docId, e.signer)) ring.certs.set(e.index, cert)
      } catch {
        // A malformed certificate leaves the member nameless; the chain entry stays valid.
      }
      return 'done'
    }
    case PartTag.recoveryKey: {
      const plain = ring.rosterOpen(e.index, p.tag, p.data)
      if (plain === undefined) return 'retry'
      ring.recoveryKey = plain
      return 'done'
    }
    case PartTag.note: {
      const plain = ring.rosterOpen(e.index, p.tag, p.data)
      if (plain === undefined) return 'retry'
      ring.notes.set(e.index, plain)
      return 'done'
    }
    case PartTag.selfBox:
      if (reader.myIndex !== e.index) return 'retry'
      return keys(kemOpen(ring, reader, e, p))
    case PartTag.recoveryBox:
      return reader.recovery === undefined
        ? 'done'
        : keys(kemOpen(ring, reader, e, p, reader.recovery))
    case PartTag.memberBox:
      if (reader.myIndex === undefined) return 'retry'
      return reader.myIndex === p.to ? keys(kemOpen(ring, reader, e, p)) : 'done'
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
      const secret = kemOpen(ring, reader, e, p)
      if (secret === undefined || secret.length !== 32) return 'done'
      ring.admissions.set(e.index, secret)
      return 'learned'
    }
    case PartTag.linkWrap:
      return ring.admissions.has(e.index) ? keys(unwrap(ring, e.index, e, p)) : 'retry'
    case PartTag.admissionWrap:
      return ring.admissions.has(p.to) ? keys(unwrap(ring, p.to, e, p)) : 'retry'
    default:
      return 'done'
  }
}
