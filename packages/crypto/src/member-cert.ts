import { utf8, verifyDomain } from '@valv/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { type DeviceCert, readDeviceCert, verifyDeviceCert, writeDeviceCert } from './card.js'

/**
 * Who a per-document key belongs to, readable only by members (it travels roster-encrypted in
 * the genesis or join entry): user key and name, the device certificate, and the device's
 * signature binding the per-document key to the document.
 */
export interface MemberCert {
  /** The user's public key. */
  readonly userKey: Uint8Array
  /** Name to show. */
  readonly displayName: string
  /** The device's certificate, signed by the user key. */
  readonly device: DeviceCert
  /** The device key's signature over (document id, per-document key). */
  readonly binding: Uint8Array
}

/** Encode a member certificate. */
export function encodeMemberCert(c: MemberCert): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeUint8Array(enc, c.userKey)
  encoding.writeVarString(enc, c.displayName)
  writeDeviceCert(enc, c.device)
  encoding.writeUint8Array(enc, c.binding)
  return encoding.toUint8Array(enc)
}

/** Decode a member certificate; throws on malformed input. */
export function decodeMemberCert(bytes: Uint8Array): MemberCert {
  const dec = decoding.createDecoder(bytes)
  return {
    userKey: decoding.readUint8Array(dec, 32).slice(),
    displayName: decoding.readVarString(dec),
    device: readDeviceCert(dec),
    binding: decoding.readUint8Array(dec, 64).slice(),
  }
}

/**
 * Whether `c` certifies `documentKey` for `docId`: the user signed the device, and the device
 * signed the per-document key.
 */
export function verifyMemberCert(c: MemberCert, docId: string, documentKey: Uint8Array): boolean {
  return (
    verifyDeviceCert(c.userKey, c.device) &&
    verifyDomain('document-key', c.device.deviceKey, c.binding, utf8(docId), documentKey)
  )
}
