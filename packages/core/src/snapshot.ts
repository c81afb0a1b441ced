import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { type ClientIds, hasMore, readClientIds, writeClientIds } from './client-ids.js'
import { CoreError } from './errors.js'
import { type Heads, readHeads, writeHeads } from './heads.js'

/**
 * The plaintext inside a sealed compaction snapshot. It states which signed updates it covers
 * (per-author counters, relay sequence) and chains to the previous snapshot's proof, so a
 * client that knows an earlier snapshot can tell a successor from a fork or a rollback.
 */
export interface SnapshotBody {
  /** Last relay sequence number the snapshot covers. */
  readonly upToSeq: number
  /** `upToSeq` of the snapshot it replaces (0 = none). */
  readonly prevSeq: number
  /** Proof of the snapshot it replaces (empty = none). */
  readonly prevProof: Uint8Array
  /** Per-author highest counter covered. */
  readonly counters: Heads
  /** `Y.encodeStateAsUpdateV2` of the document. */
  readonly state: Uint8Array
  /** Yjs client id bindings up to `upToSeq` (absent in snapshots made before binding). */
  readonly clientIds?: ClientIds
}

const VERSION = 1

/** Encode a snapshot body (versioned). */
export function encodeSnapshotBody(body: SnapshotBody): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, VERSION)
  encoding.writeVarUint(enc, body.upToSeq)
  encoding.writeVarUint(enc, body.prevSeq)
  encoding.writeVarUint8Array(enc, body.prevProof)
  writeHeads(enc, body.counters)
  encoding.writeVarUint8Array(enc, body.state)
  if (body.clientIds !== undefined) writeClientIds(enc, body.clientIds)
  return encoding.toUint8Array(enc)
}

/** Decode a snapshot body; throws `malformed` on anything unexpected. */
export function decodeSnapshotBody(bytes: Uint8Array): SnapshotBody {
  try {
    const dec = decoding.createDecoder(bytes)
    if (decoding.readVarUint(dec) !== VERSION) throw new Error('version')
    const body = {
      upToSeq: decoding.readVarUint(dec),
      prevSeq: decoding.readVarUint(dec),
      prevProof: decoding.readVarUint8Array(dec),
      counters: readHeads(dec),
      state: decoding.readVarUint8Array(dec),
    }
    return hasMore(dec) ? { ...body, clientIds: readClientIds(dec) } : body
  } catch (cause) {
    throw new CoreError('malformed', 'snapshot body does not decode', { cause })
  }
}

/**
 * A snapshot's proof: `SHA-256(prevProof ‖ SHA-256(sealed))`. Chaining proofs (as secsync
 * does) makes a forked or replaced history visible to anyone holding a later proof.
 */
export async function snapshotProof(
  prevProof: Uint8Array,
  sealed: Uint8Array,
): Promise<Uint8Array> {
  const inner = new Uint8Array(
    await crypto.subtle.digest('SHA-256', sealed as Uint8Array<ArrayBuffer>),
  )
  const both = new Uint8Array(prevProof.length + inner.length)
  both.set(prevProof)
  both.set(inner, prevProof.length)
  return new Uint8Array(await crypto.subtle.digest('SHA-256', both))
}

/** Constant-shape byte equality (proofs are public; timing does not matter here). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
