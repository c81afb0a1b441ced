import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { type ClientIds, hasMore, readClientIds, writeClientIds } from './client-ids.js'
import { CoreError } from './errors.js'
import { type Heads, readHeads, writeHeads } from './heads.js'

/**
 * The plaintext inside a sealed compaction snapshot. What it covers and what it replaces are in
 * the signed envelope header (`SnapshotPosition`); the body is a deterministic function of the
 * previous snapshot and the covered updates (see `Compaction`), so any member holding them can
 * recompute it byte for byte.
 */
export interface SnapshotBody {
  /**
   * Whether deleted content was garbage-collected (`Y.Doc` option `gc`). The builder follows its
   * own document; checkers recompute with the same value, so documents kept with `gc: false`
   * (version history) keep their history in snapshots.
   */
  readonly gc: boolean
  /** Per-author highest counter covered. */
  readonly counters: Heads
  /** `Y.encodeStateAsUpdateV2` of the covered document. */
  readonly state: Uint8Array
  /** Yjs client id bindings up to `upToSeq` (absent in snapshots made before binding). */
  readonly clientIds?: ClientIds
}

/** Version 1 carried its position in the plaintext; version 2 has it in the signed header. */
const VERSION = 2

/** Encode a snapshot body (versioned, canonical: equal bodies encode to equal bytes). */
export function encodeSnapshotBody(body: SnapshotBody): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, VERSION)
  encoding.writeUint8(enc, body.gc ? 1 : 0)
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
    const gc = decoding.readUint8(dec)
    if (gc > 1) throw new Error('gc flag')
    const base = { gc: gc === 1, counters: readHeads(dec), state: decoding.readVarUint8Array(dec) }
    const body = hasMore(dec) ? { ...base, clientIds: readClientIds(dec) } : base
    if (dec.pos !== bytes.length) throw new Error('trailing bytes')
    return body
  } catch (cause) {
    throw new CoreError('malformed', 'snapshot body does not decode', { cause })
  }
}

/** Constant-shape byte equality (ids are public; timing does not matter here). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Lower-case hex (for map keys of public ids). */
export function hexOf(b: Uint8Array): string {
  let s = ''
  for (const x of b) s += x.toString(16).padStart(2, '0')
  return s
}
