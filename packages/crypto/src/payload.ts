import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/**
 * Tags of the parts of a membership entry's client payload. The relay stores the payload but
 * every part is encrypted or sealed; `to` addresses a member or admission by chain index only.
 */
export const PartTag = {
  /** Roster-encrypted certificate of the entry's signer (genesis, join). */
  certificate: 1,
  /** Epoch bundle sealed to the signer's own device key (genesis, join). */
  selfBox: 2,
  /** Roster-encrypted recovery public key (genesis). */
  recoveryKey: 3,
  /** Epoch bundle sealed to the organisation recovery key (genesis, rotate). */
  recoveryBox: 4,
  /** Epoch bundle under the admission's wrap key (admit). */
  linkWrap: 5,
  /** Admission secret sealed to an admin (`to` = admin's member index) (admit). */
  adminBox: 6,
  /** Admission secret sealed to an invitee device (admit, direct share). */
  inviteeBox: 7,
  /** Roster-encrypted note: who an admission is for (admit). */
  note: 8,
  /** New epoch bundle sealed to a member (`to` = member index) (rotate). */
  memberBox: 9,
  /** New epoch bundle under an open admission's wrap key (`to` = admit index) (rotate). */
  admissionWrap: 10,
} as const

/** One payload part. */
export interface Part {
  /** What the part is ({@link PartTag}). */
  readonly tag: number
  /** Addressed chain index, 0 when the part has no addressee. */
  readonly to: number
  /** Sealed or encrypted bytes. */
  readonly data: Uint8Array
}

/** Encode payload parts. */
export function encodeParts(parts: readonly Part[]): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, parts.length)
  for (const p of parts) {
    encoding.writeUint8(enc, p.tag)
    encoding.writeVarUint(enc, p.to)
    encoding.writeVarUint8Array(enc, p.data)
  }
  return encoding.toUint8Array(enc)
}

/** Decode payload parts; malformed payloads decode as no parts (the chain entry stays valid). */
export function decodeParts(bytes: Uint8Array): Part[] {
  try {
    // Each part is copied out below; the payload itself need not be.
    const dec = decoding.createDecoder(bytes)
    const n = decoding.readVarUint(dec)
    const out: Part[] = []
    for (let i = 0; i < n; i++) {
      out.push({
        tag: decoding.readUint8(dec),
        to: decoding.readVarUint(dec),
        data: decoding.readVarUint8Array(dec).slice(),
      })
    }
    return dec.pos === dec.arr.length ? out : []
  } catch {
    return []
  }
}
