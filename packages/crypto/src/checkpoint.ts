import type { MembershipEntry } from '@valv/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { KeyRing, PendingParts } from './keyring.js'
import { decodeMemberCert, encodeMemberCert, type MemberCert } from './member-cert.js'
import type { Part } from './payload.js'

/** Layout version of the checkpoint plaintext (device-local, never on the wire). */
const VERSION = 1

/**
 * What one device verified and read of a chain, so that reopening it costs no signature
 * check, no hash and no decryption per entry: the entries without their payloads (their
 * signatures and chain links were checked; what their payloads held for this device was
 * taken), the chain hash of the last one, and what the payloads gave (certificates already
 * verified, invite notes, the recovery key, and the parts that may still open later).
 * Sealed under the device's local key by `LocalCopy.saveVerified`; epoch keys and admission
 * secrets stay in the separate secrets record.
 */
export interface Checkpoint {
  /** Entries 0 … n-1 as {@link stripPayload} leaves them. */
  readonly entries: readonly Uint8Array[]
  /** Chain hash of entry n-1. */
  readonly head: Uint8Array
  /** Verified member certificates by member index. */
  readonly certs: ReadonlyMap<number, MemberCert>
  /** Invite notes (user key an admission is for) by admit index. */
  readonly notes: ReadonlyMap<number, Uint8Array>
  /** Certificates not opened yet (see `KeyRing.sealedCerts`). */
  readonly sealedCerts: ReadonlyMap<
    number,
    { readonly signer: Uint8Array; readonly data: Uint8Array }
  >
  /** Notes not opened yet (see `KeyRing.sealedNotes`). */
  readonly sealedNotes: ReadonlyMap<number, Uint8Array>
  /** The recovery public key, if read. */
  readonly recoveryKey: Uint8Array | undefined
  /** Parts still waiting for this reader, by entry index. */
  readonly pending: ReadonlyMap<number, PendingParts>
}

/**
 * `e`'s encoding with an empty payload: what a checkpoint keeps of an entry whose payload was
 * read. It no longer hashes to the chain hash nor verifies; only a checkpoint restores it.
 */
export function stripPayload(e: MembershipEntry, bytes: Uint8Array): Uint8Array {
  if (e.payload.length === 0) return bytes
  const lengthBytes = encoding.encode((enc) => encoding.writeVarUint(enc, e.payload.length)).length
  const prefix = e.signed.length - e.payload.length - lengthBytes
  const out = new Uint8Array(prefix + 1 + e.signature.length)
  out.set(e.signed.subarray(0, prefix))
  out[prefix] = 0
  out.set(e.signature, prefix + 1)
  return out
}

/** A checkpoint of `entries` (stripped) with `head`, taking the rest from `ring`. */
export function checkpointOf(
  entries: readonly Uint8Array[],
  head: Uint8Array,
  ring: KeyRing,
): Checkpoint {
  return {
    entries,
    head,
    certs: ring.certs,
    notes: ring.notes,
    sealedCerts: ring.sealedCerts,
    sealedNotes: ring.sealedNotes,
    recoveryKey: ring.recoveryKey,
    // Only parts of checkpointed entries: later ones are read again when restored.
    pending: new Map([...ring.pending].filter(([i]) => i < entries.length)),
  }
}

const writePart = (enc: encoding.Encoder, p: Part) => {
  encoding.writeUint8(enc, p.tag)
  encoding.writeVarUint(enc, p.to)
  encoding.writeVarUint8Array(enc, p.data)
}

/** Encode a checkpoint (the plaintext `LocalCopy` seals). */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeUint8(enc, VERSION)
  encoding.writeVarUint(enc, c.entries.length)
  for (const e of c.entries) encoding.writeVarUint8Array(enc, e)
  encoding.writeUint8Array(enc, c.head)
  encoding.writeVarUint(enc, c.certs.size)
  for (const [i, cert] of c.certs) {
    encoding.writeVarUint(enc, i)
    encoding.writeVarUint8Array(enc, encodeMemberCert(cert))
  }
  encoding.writeVarUint(enc, c.notes.size)
  for (const [i, note] of c.notes) {
    encoding.writeVarUint(enc, i)
    encoding.writeVarUint8Array(enc, note)
  }
  encoding.writeVarUint(enc, c.sealedCerts.size)
  for (const [i, sealed] of c.sealedCerts) {
    encoding.writeVarUint(enc, i)
    encoding.writeUint8Array(enc, sealed.signer)
    encoding.writeVarUint8Array(enc, sealed.data)
  }
  encoding.writeVarUint(enc, c.sealedNotes.size)
  for (const [i, data] of c.sealedNotes) {
    encoding.writeVarUint(enc, i)
    encoding.writeVarUint8Array(enc, data)
  }
  encoding.writeVarUint8Array(enc, c.recoveryKey ?? new Uint8Array(0))
  encoding.writeVarUint(enc, c.pending.size)
  for (const p of c.pending.values()) {
    encoding.writeVarUint(enc, p.index)
    encoding.writeUint8Array(enc, p.signer)
    encoding.writeUint8(enc, p.version)
    encoding.writeVarUint(enc, p.parts.length)
    for (const part of p.parts) writePart(enc, part)
  }
  return encoding.toUint8Array(enc)
}

/** Decode a checkpoint; throws on anything malformed (the caller then ignores it). */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  const dec = decoding.createDecoder(bytes)
  if (decoding.readUint8(dec) !== VERSION) throw new Error('unknown checkpoint version')
  const entries: Uint8Array[] = []
  for (let n = decoding.readVarUint(dec); n > 0; n--) entries.push(decoding.readVarUint8Array(dec))
  const head = decoding.readUint8Array(dec, 32)
  const certs = new Map<number, MemberCert>()
  for (let n = decoding.readVarUint(dec); n > 0; n--) {
    const i = decoding.readVarUint(dec)
    certs.set(i, decodeMemberCert(decoding.readVarUint8Array(dec)))
  }
  const notes = new Map<number, Uint8Array>()
  for (let n = decoding.readVarUint(dec); n > 0; n--) {
    const i = decoding.readVarUint(dec)
    notes.set(i, decoding.readVarUint8Array(dec))
  }
  const sealedCerts = new Map<number, { signer: Uint8Array; data: Uint8Array }>()
  for (let n = decoding.readVarUint(dec); n > 0; n--) {
    const i = decoding.readVarUint(dec)
    const signer = decoding.readUint8Array(dec, 32)
    sealedCerts.set(i, { signer, data: decoding.readVarUint8Array(dec) })
  }
  const sealedNotes = new Map<number, Uint8Array>()
  for (let n = decoding.readVarUint(dec); n > 0; n--) {
    const i = decoding.readVarUint(dec)
    sealedNotes.set(i, decoding.readVarUint8Array(dec))
  }
  const recovery = decoding.readVarUint8Array(dec)
  const pending = new Map<number, PendingParts>()
  for (let n = decoding.readVarUint(dec); n > 0; n--) {
    const index = decoding.readVarUint(dec)
    const signer = decoding.readUint8Array(dec, 32)
    const version = decoding.readUint8(dec)
    const parts: Part[] = []
    for (let k = decoding.readVarUint(dec); k > 0; k--) {
      parts.push({
        tag: decoding.readUint8(dec),
        to: decoding.readVarUint(dec),
        data: decoding.readVarUint8Array(dec),
      })
    }
    pending.set(index, { index, signer, version, parts })
  }
  if (dec.pos !== bytes.length) throw new Error('trailing bytes')
  const recoveryKey = recovery.length === 0 ? undefined : recovery
  return { entries, head, certs, notes, sealedCerts, sealedNotes, recoveryKey, pending }
}
