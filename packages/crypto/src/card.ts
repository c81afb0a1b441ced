import {
  CryptoError,
  fromBase64Url,
  toBase64Url,
  toHex,
  u64Bytes,
  verifyDomain,
} from '@valv/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/** A device's public keys, certified by its user's key. */
export interface DeviceCert {
  /** The device's Ed25519 public key. */
  readonly deviceKey: Uint8Array
  /** The device's hybrid (X25519 + ML-KEM-768) public key that keys are sealed to. */
  readonly kemKey: Uint8Array
  /** Unix seconds the device was certified. */
  readonly createdAt: number
  /** The user key's signature over the three fields above. */
  readonly signature: Uint8Array
}

/** Bytes a device certificate's signature covers. */
export function deviceCertParts(d: Omit<DeviceCert, 'signature'>): Uint8Array[] {
  return [d.deviceKey, d.kemKey, u64Bytes(d.createdAt)]
}

/** Whether a device certificate was signed by `userKey`. */
export function verifyDeviceCert(userKey: Uint8Array, d: DeviceCert): boolean {
  return verifyDomain('device-cert', userKey, d.signature, ...deviceCertParts(d))
}

/** Write a device certificate. */
export function writeDeviceCert(enc: encoding.Encoder, d: DeviceCert): void {
  encoding.writeUint8Array(enc, d.deviceKey)
  encoding.writeVarUint8Array(enc, d.kemKey)
  encoding.writeVarUint(enc, d.createdAt)
  encoding.writeUint8Array(enc, d.signature)
}

/** Read a device certificate. */
export function readDeviceCert(dec: decoding.Decoder): DeviceCert {
  return {
    deviceKey: decoding.readUint8Array(dec, 32).slice(),
    kemKey: decoding.readVarUint8Array(dec).slice(),
    createdAt: decoding.readVarUint(dec),
    signature: decoding.readUint8Array(dec, 64).slice(),
  }
}

const PREFIX = 'valv-card1.'

/**
 * What a person hands out so others can share documents with them: their user key, display
 * name and certified devices (and revoked ones). Safe to publish: it holds no secret. Parsing
 * verifies every signature, so a card cannot be altered in transit without detection.
 *
 * @example
 * ```ts
 * const text = anna.card.toString()        // send it to a colleague
 * const card = PublicCard.parse(text)      // they share with it
 * await session.share(card, Role.Editor)
 * ```
 */
export class PublicCard {
  /** Create a card from verified parts; use {@link PublicCard.parse} for untrusted input. */
  constructor(
    /** The user's Ed25519 public key: the stable user id. */
    readonly userKey: Uint8Array,
    /** Name shown to other members (inside encrypted membership data only). */
    readonly displayName: string,
    /** Devices certified by the user key and not revoked. */
    readonly devices: readonly DeviceCert[],
  ) {}

  /** Hex of the user key: the id to pass to `unshare`. */
  get userId(): string {
    return toHex(this.userKey)
  }

  /** Encode as bytes. */
  toBytes(): Uint8Array {
    const enc = encoding.createEncoder()
    encoding.writeUint8Array(enc, this.userKey)
    encoding.writeVarString(enc, this.displayName)
    encoding.writeVarUint(enc, this.devices.length)
    for (const d of this.devices) writeDeviceCert(enc, d)
    return encoding.toUint8Array(enc)
  }

  /** Encode as a `valv-card1.` string. */
  toString(): string {
    return PREFIX + toBase64Url(this.toBytes())
  }

  /** Decode and verify a card from bytes. Throws `malformed` or `bad-signature`. */
  static fromBytes(bytes: Uint8Array): PublicCard {
    let card: PublicCard
    try {
      const dec = decoding.createDecoder(bytes.slice())
      const userKey = decoding.readUint8Array(dec, 32).slice()
      const name = decoding.readVarString(dec)
      const n = decoding.readVarUint(dec)
      if (n > 64) throw new Error('too many devices')
      const devices: DeviceCert[] = []
      for (let i = 0; i < n; i++) devices.push(readDeviceCert(dec))
      if (dec.pos !== dec.arr.length) throw new Error('trailing bytes')
      card = new PublicCard(userKey, name, devices)
    } catch (cause) {
      throw new CryptoError('malformed', 'card does not decode', { cause })
    }
    for (const d of card.devices) {
      if (!verifyDeviceCert(card.userKey, d)) {
        throw new CryptoError('bad-signature', 'a device certificate does not verify')
      }
    }
    return card
  }

  /** Decode and verify a `valv-card1.` string. Throws `malformed` or `bad-signature`. */
  static parse(text: string): PublicCard {
    const bytes = text.startsWith(PREFIX) ? fromBase64Url(text.slice(PREFIX.length)) : undefined
    if (bytes === undefined) throw new CryptoError('malformed', 'not a Valv card')
    return PublicCard.fromBytes(bytes)
  }
}
