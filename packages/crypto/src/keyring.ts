import { domainMessage, equalBytes, type MembershipState, u64Bytes, utf8 } from '@valv/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { decodeBundle, type EpochKeys, encodeBundle } from './bundle.js'
import { decodeMemberCert, type MemberCert, verifyMemberCert } from './member-cert.js'
import { type Part, PartTag } from './payload.js'
import { aeadOpen, aeadSeal, keyCommitment, type SuiteId } from './primitives/aead.js'

/** The parts of one entry still waiting for this reader, with what reading them needs. */
export interface PendingParts {
  /** Chain index of the entry. */
  readonly index: number
  /** The entry's signer (certificates are checked against it). */
  readonly signer: Uint8Array
  /** The entry's membership version (it fixes the payload layout). */
  readonly version: number
  /** The waiting parts. */
  readonly parts: Part[]
}

/**
 * What one reader knows of a document's secrets: epoch keys, admission secrets, and the member
 * certificates and invite notes it could decrypt. Keys enter only through {@link KeyRing.add},
 * which checks each epoch secret against the commitment in the membership chain.
 */
export class KeyRing {
  /** Epoch keys by epoch. */
  readonly epochs = new Map<number, EpochKeys>()
  /** Admission secrets this reader holds, by admit index. */
  readonly admissions = new Map<number, Uint8Array>()
  /** Decrypted and verified member certificates by member index (see {@link cert}). */
  readonly certs = new Map<number, MemberCert>()
  /** Who each admission was created for (user key), by admit index (see {@link note}). */
  readonly notes = new Map<number, Uint8Array>()
  /**
   * Certificates this reader can decrypt but has not needed yet, by member index: opened and
   * verified on first use, so joining a large document does not check every member's.
   */
  readonly sealedCerts = new Map<
    number,
    { readonly signer: Uint8Array; readonly data: Uint8Array }
  >()
  /** Notes this reader can decrypt but has not needed yet, by admit index. */
  readonly sealedNotes = new Map<number, Uint8Array>()
  /** The organisation recovery public key named at genesis, once read. */
  recoveryKey: Uint8Array | undefined
  /**
   * Payload parts that may still open for this reader once it learns more (a key, an admission
   * secret, its own index), by entry index; every other part was taken or is not for it.
   */
  readonly pending = new Map<number, PendingParts>()
  /** Recipient-hint keys by hex signer key (one X25519 per signer, not per entry). */
  readonly hintKeys = new Map<string, Uint8Array | undefined>()

  constructor(
    readonly docId: string,
    readonly suite: () => SuiteId,
  ) {}

  /**
   * Add the epochs of a bundle. A full secret is kept only if its commitment matches the chain
   * (so a malicious admin cannot give members different keys for one epoch); roster-only
   * entries never replace a full one. Returns whether anything new was learned.
   */
  add(state: MembershipState, bundle: readonly EpochKeys[]): boolean {
    let learned = false
    for (const e of bundle) {
      const have = this.epochs.get(e.epoch)
      if (e.secret !== undefined) {
        const c = state.commitment(e.epoch)
        if (c === undefined || !equalBytes(c, keyCommitment(e.secret))) continue
        if (have?.secret !== undefined) continue
      } else if (have !== undefined) continue
      this.epochs.set(e.epoch, e)
      learned = true
    }
    return learned
  }

  /** Decode and {@link add} a sealed bundle's plaintext; malformed bundles add nothing. */
  addEncoded(state: MembershipState, bytes: Uint8Array): boolean {
    try {
      return this.add(state, decodeBundle(this.docId, bytes))
    } catch {
      return false
    }
  }

  /** The bundle to give a new member under the document's history policy. */
  bundleFor(needToKnow: boolean, current: number): Uint8Array {
    const out: EpochKeys[] = []
    for (const e of this.epochs.values()) {
      out.push(needToKnow && e.epoch !== current ? { epoch: e.epoch, roster: e.roster } : e)
    }
    return encodeBundle(out)
  }

  /** Every full epoch this reader holds. */
  fullBundle(): Uint8Array {
    return encodeBundle([...this.epochs.values()].filter((e) => e.secret !== undefined))
  }

  private partAad(entryIndex: number, tag: number): Uint8Array {
    return domainMessage('payload', utf8(this.docId), u64Bytes(entryIndex), new Uint8Array([tag]))
  }

  /** Encrypt a payload part under the roster key of `epoch`. */
  rosterSeal(epoch: number, entryIndex: number, tag: number, plaintext: Uint8Array): Uint8Array {
    const keys = this.epochs.get(epoch)
    if (keys === undefined) throw new Error(`no roster key for epoch ${epoch}`)
    const enc = encoding.createEncoder()
    encoding.writeVarUint(enc, epoch)
    const sealed = aeadSeal(this.suite(), keys.roster, plaintext, this.partAad(entryIndex, tag))
    encoding.writeUint8Array(enc, sealed)
    return encoding.toUint8Array(enc)
  }

  /** Decrypt a roster-encrypted part, or `undefined` if this reader lacks the key or it fails. */
  rosterOpen(entryIndex: number, tag: number, data: Uint8Array): Uint8Array | undefined {
    try {
      const dec = decoding.createDecoder(data)
      const keys = this.epochs.get(decoding.readVarUint(dec))
      if (keys === undefined) return undefined
      const sealed = data.subarray(dec.pos)
      return aeadOpen(this.suite(), keys.roster, sealed, this.partAad(entryIndex, tag))
    } catch {
      return undefined
    }
  }

  /** Whether the roster key a roster-sealed part names is known (it then opens on demand). */
  rosterKnown(data: Uint8Array): boolean {
    try {
      return this.epochs.has(decoding.readVarUint(decoding.createDecoder(data)))
    } catch {
      return false
    }
  }

  /** Member `index`'s certificate, opened and verified on first use; `undefined` if unknown. */
  cert(index: number): MemberCert | undefined {
    const have = this.certs.get(index)
    if (have !== undefined) return have
    const sealed = this.sealedCerts.get(index)
    if (sealed === undefined) return undefined
    this.sealedCerts.delete(index)
    const plain = this.rosterOpen(index, PartTag.certificate, sealed.data)
    try {
      const cert = plain === undefined ? undefined : decodeMemberCert(plain)
      if (cert !== undefined && verifyMemberCert(cert, this.docId, sealed.signer)) {
        this.certs.set(index, cert)
        return cert
      }
    } catch {
      // A malformed certificate leaves the member nameless; the chain entry stays valid.
    }
    return undefined
  }

  /** Who admission `index` was made for (a user key), decrypted on first use. */
  note(index: number): Uint8Array | undefined {
    const have = this.notes.get(index)
    if (have !== undefined) return have
    const sealed = this.sealedNotes.get(index)
    if (sealed === undefined) return undefined
    this.sealedNotes.delete(index)
    const plain = this.rosterOpen(index, PartTag.note, sealed)
    if (plain !== undefined) this.notes.set(index, plain)
    return plain
  }

  /** Associated data for a sealed box or wrap inside payload part `tag` of entry `entryIndex`. */
  boxAad(entryIndex: number, tag: number): Uint8Array {
    return this.partAad(entryIndex, tag)
  }
}
