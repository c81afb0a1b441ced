import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { ClientIds, hasMore, readClientIds, writeClientIds } from './client-ids.js'
import { CoreError } from './errors.js'
import { type Heads, readHeads, writeHeads } from './heads.js'
import { equalBytes } from './snapshot.js'

/**
 * What a client has seen from the relay, kept signed in local storage. A relay that later
 * serves less (an older snapshot, a shorter log, lower counters) is rolling back.
 */
export interface Checkpoint {
  /** `upToSeq` of the newest snapshot accepted (0 = none). */
  readonly snapshotSeq: number
  /** That snapshot's proof (empty = none). */
  readonly snapshotProof: Uint8Array
  /** Per-author counters that snapshot covers. */
  readonly snapshotCounters: Heads
  /** Highest contiguous relay sequence number applied. */
  readonly lastSeq: number
  /** Per-author counters of everything applied from the relay. */
  readonly heads: Heads
  /** The local author's last used counter. */
  readonly counter: number
  /** Yjs client id bindings learned so far (see {@link ClientIds}). */
  readonly clientIds: ClientIds
}

/** The checkpoint of a client that has seen nothing. */
export function emptyCheckpoint(): Checkpoint {
  return {
    snapshotSeq: 0,
    snapshotProof: new Uint8Array(0),
    snapshotCounters: new Map(),
    lastSeq: 0,
    heads: new Map(),
    counter: 0,
    clientIds: new ClientIds(),
  }
}

/** Encode a checkpoint (versioned). */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, 1)
  encoding.writeVarUint(enc, c.snapshotSeq)
  encoding.writeVarUint8Array(enc, c.snapshotProof)
  writeHeads(enc, c.snapshotCounters)
  encoding.writeVarUint(enc, c.lastSeq)
  writeHeads(enc, c.heads)
  encoding.writeVarUint(enc, c.counter)
  // Trailing field: a checkpoint written before client-id binding simply ends here.
  writeClientIds(enc, c.clientIds)
  return encoding.toUint8Array(enc)
}

/** Decode a checkpoint; throws `corrupt-local-state`. */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  try {
    const dec = decoding.createDecoder(bytes)
    if (decoding.readVarUint(dec) !== 1) throw new Error('version')
    const cp = {
      snapshotSeq: decoding.readVarUint(dec),
      snapshotProof: decoding.readVarUint8Array(dec),
      snapshotCounters: readHeads(dec),
      lastSeq: decoding.readVarUint(dec),
      heads: readHeads(dec),
      counter: decoding.readVarUint(dec),
    }
    return { ...cp, clientIds: hasMore(dec) ? readClientIds(dec) : new ClientIds() }
  } catch (cause) {
    throw new CoreError('corrupt-local-state', 'checkpoint does not decode', { cause })
  }
}

/**
 * Why a snapshot offered by the relay is a rollback or fork of what `cp` has seen, or
 * `undefined` if it may be accepted. `proof` is the offered snapshot's proof.
 */
export function snapshotRollback(
  cp: Checkpoint,
  offered: { upToSeq: number; prevSeq: number; prevProof: Uint8Array; counters: Heads },
  proof: Uint8Array,
): string | undefined {
  if (offered.upToSeq < cp.snapshotSeq) {
    return `snapshot covers seq ${offered.upToSeq}, checkpoint has ${cp.snapshotSeq}`
  }
  if (offered.upToSeq === cp.snapshotSeq && cp.snapshotSeq > 0) {
    return equalBytes(proof, cp.snapshotProof) ? undefined : 'snapshot forks the known one'
  }
  if (offered.prevSeq === cp.snapshotSeq && cp.snapshotSeq > 0) {
    if (!equalBytes(offered.prevProof, cp.snapshotProof)) return 'snapshot does not chain'
  }
  for (const [author, counter] of cp.snapshotCounters) {
    if ((offered.counters.get(author) ?? 0) < counter) {
      return 'snapshot covers fewer updates than the known one'
    }
  }
  return undefined
}
