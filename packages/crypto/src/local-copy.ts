import { type MembershipState, utf8 } from '@valv/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { encodeBundle } from './bundle.js'
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint } from './checkpoint.js'
import { type Identity, localStoreKey } from './identity.js'
import type { ErasableKeyStore, KeyStore } from './key-store.js'
import type { KeyRing } from './keyring.js'
import { aeadOpen, aeadSeal, Suite } from './primitives/aead.js'
import { equalBytes } from './primitives/bytes.js'

const seqKey = (n: number) => String(n).padStart(10, '0')
const PREFIX = 'valv-keys'

/**
 * Crypto-shredding on this device: delete the local copy of `docId`'s membership chain and its
 * sealed epoch keys and admission secrets from `store`. Sessions of the document that are still
 * open keep their keys in memory until dropped; close them first.
 *
 * @example
 * ```ts
 * await eraseLocalKeys(new IndexedDBStorageAdapter({ dbName: 'valv' }), docId)
 * ```
 */
export async function eraseLocalKeys(store: ErasableKeyStore, docId: string): Promise<void> {
  await store.deletePrefix([PREFIX, docId])
}

/** The newest membership chain head a relay has shown this device: its length and hash. */
export interface ChainHead {
  /** Number of entries. */
  readonly length: number
  /** Chain hash of entry `length - 1` (32 zero bytes when `length` is 0). */
  readonly hash: Uint8Array
}

/**
 * The device-local copy of one document's chain (public entries, stored as they are) and of
 * what the device learned from it (epoch keys, admission secrets), stored encrypted under a key
 * derived from the device secret, so a key store never holds a usable key.
 */
export class LocalCopy {
  /** The device's local-store key, derived once (see {@link sealKey}). */
  private localKey: Uint8Array | undefined
  /** What {@link saveSecrets} last stored: an unchanged ring is not sealed and written again. */
  private savedSecrets: Uint8Array | undefined

  constructor(
    private readonly docId: string,
    private readonly store: KeyStore | undefined,
    private readonly me: Identity | undefined,
  ) {}

  /** The key this device seals its local copy under (one HKDF per session, not per write). */
  private sealKey(me: Identity): Uint8Array {
    this.localKey ??= localStoreKey(me)
    return this.localKey
  }

  private key(...rest: string[]): string[] {
    return [PREFIX, this.docId, ...rest]
  }

  /** Store chain entry `index`. */
  async saveEntry(index: number, entry: Uint8Array): Promise<void> {
    await this.store?.put(this.key('chain', seqKey(index)), entry)
  }

  /** Every stored entry from `from` on, in order, stopping at the first gap. */
  async loadChain(from = 0): Promise<Array<[number, Uint8Array]>> {
    const out: Array<[number, Uint8Array]> = []
    if (this.store === undefined) return out
    for (let i = from; ; i++) {
      const entry = await this.store.get(this.key('chain', seqKey(i)))
      if (entry === undefined) return out
      out.push([i, entry])
    }
  }

  /**
   * Store the verified chain head. Public data, like the entries: it lets a reloaded session
   * notice a relay serving an older chain even when it holds fewer entries than it verified.
   */
  async saveHead(head: ChainHead): Promise<void> {
    const enc = encoding.createEncoder()
    encoding.writeVarUint(enc, head.length)
    encoding.writeUint8Array(enc, head.hash)
    await this.store?.put(this.key('head'), encoding.toUint8Array(enc))
  }

  /** The head {@link saveHead} stored, or `undefined` (none, or unreadable). */
  async loadHead(): Promise<ChainHead | undefined> {
    const bytes = await this.store?.get(this.key('head'))
    if (bytes === undefined) return undefined
    try {
      const dec = decoding.createDecoder(bytes)
      const length = decoding.readVarUint(dec)
      const hash = decoding.readUint8Array(dec, 32).slice()
      return Number.isSafeInteger(length) && dec.pos === bytes.length ? { length, hash } : undefined
    } catch {
      return undefined
    }
  }

  /**
   * Store `checkpoint` (the verified chain and what this device read of it, see
   * `Checkpoint`) as one blob sealed under the device's local key: the proof, on the next
   * open, that this device already verified and read those entries, so they are restored with
   * one read and no signature checks, hashes or decryptions (see {@link loadVerified}).
   * Without an identity (a recovery session) nothing is stored.
   */
  async saveVerified(checkpoint: Checkpoint): Promise<void> {
    if (this.store === undefined || this.me === undefined) return
    const sealed = aeadSeal(
      Suite.XChaCha20Poly1305,
      this.sealKey(this.me),
      encodeCheckpoint(checkpoint),
      utf8(`${this.docId}/chain-checkpoint`),
    )
    await this.store.put(this.key('verified'), sealed)
  }

  /**
   * The checkpoint {@link saveVerified} stored, or `undefined` when there is none or it does
   * not open under this device's key (tampered, another device's, or the entry list an older
   * version stored): the caller then verifies every entry from scratch.
   */
  async loadVerified(): Promise<Checkpoint | undefined> {
    if (this.store === undefined || this.me === undefined) return undefined
    const sealed = await this.store.get(this.key('verified'))
    if (sealed === undefined) return undefined
    try {
      const plain = aeadOpen(
        Suite.XChaCha20Poly1305,
        this.sealKey(this.me),
        sealed,
        utf8(`${this.docId}/chain-checkpoint`),
      )
      return decodeCheckpoint(plain)
    } catch {
      return undefined
    }
  }

  /** Store the ring's epoch keys and admission secrets, encrypted. */
  async saveSecrets(ring: KeyRing): Promise<void> {
    if (this.store === undefined || this.me === undefined) return
    const enc = encoding.createEncoder()
    encoding.writeVarUint8Array(enc, encodeBundle([...ring.epochs.values()]))
    encoding.writeVarUint(enc, ring.admissions.size)
    for (const [index, secret] of ring.admissions) {
      encoding.writeVarUint(enc, index)
      encoding.writeUint8Array(enc, secret)
    }
    const plain = encoding.toUint8Array(enc)
    // Most chain entries teach a reader nothing: then there is nothing new to store.
    if (this.savedSecrets !== undefined && equalBytes(plain, this.savedSecrets)) return
    const sealed = aeadSeal(Suite.XChaCha20Poly1305, this.sealKey(this.me), plain, utf8(this.docId))
    await this.store.put(this.key('secrets'), sealed)
    this.savedSecrets = plain
  }

  /** Load what {@link saveSecrets} stored into `ring` (keys are re-checked against the chain). */
  async loadSecrets(ring: KeyRing, state: MembershipState): Promise<void> {
    if (this.store === undefined || this.me === undefined) return
    const sealed = await this.store.get(this.key('secrets'))
    if (sealed === undefined) return
    const plain = aeadOpen(Suite.XChaCha20Poly1305, this.sealKey(this.me), sealed, utf8(this.docId))
    const dec = decoding.createDecoder(plain)
    ring.addEncoded(state, decoding.readVarUint8Array(dec))
    const n = decoding.readVarUint(dec)
    for (let i = 0; i < n; i++) {
      const index = decoding.readVarUint(dec)
      ring.admissions.set(index, decoding.readUint8Array(dec, 32).slice())
    }
  }
}
