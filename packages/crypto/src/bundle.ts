import { domainMessage, u64Bytes, utf8 } from '@valv/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { hkdf32 } from './primitives/kdf.js'

/**
 * What a member holds for one key epoch. The epoch secret is committed in the membership chain;
 * the content key encrypts envelopes; the roster key encrypts member certificates and notes in
 * membership payloads. Need-to-know members receive only the roster key of older epochs, so they
 * can read who is a member without reading old content.
 */
export interface EpochKeys {
  /** The epoch number. */
  readonly epoch: number
  /** The 32-byte epoch secret, absent when only the roster key was shared. */
  readonly secret?: Uint8Array
  /** Encrypts envelopes (absent with the secret). */
  readonly content?: Uint8Array
  /** Encrypts membership payload parts. */
  readonly roster: Uint8Array
}

/** Derive the content and roster keys of an epoch from its secret. */
export function epochKeys(docId: string, epoch: number, secret: Uint8Array): EpochKeys {
  const salt = domainMessage('epoch', utf8(docId), u64Bytes(epoch))
  return {
    epoch,
    secret,
    content: hkdf32(secret, salt, 'valv/v1/epoch/content'),
    roster: hkdf32(secret, salt, 'valv/v1/epoch/roster'),
  }
}

/** Encode epochs for sealing: full secrets where known, roster keys otherwise. */
export function encodeBundle(epochs: readonly EpochKeys[]): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, epochs.length)
  for (const e of epochs) {
    encoding.writeVarUint(enc, e.epoch)
    encoding.writeUint8(enc, e.secret === undefined ? 0 : 1)
    encoding.writeUint8Array(enc, e.secret ?? e.roster)
  }
  return encoding.toUint8Array(enc)
}

/** Decode a bundle sealed by {@link encodeBundle}. Throws on malformed input. */
export function decodeBundle(docId: string, bytes: Uint8Array): EpochKeys[] {
  const dec = decoding.createDecoder(bytes)
  const out: EpochKeys[] = []
  const n = decoding.readVarUint(dec)
  for (let i = 0; i < n; i++) {
    const epoch = decoding.readVarUint(dec)
    const full = decoding.readUint8(dec) === 1
    const key = decoding.readUint8Array(dec, 32).slice()
    out.push(full ? epochKeys(docId, epoch, key) : { epoch, roster: key })
  }
  return out
}
