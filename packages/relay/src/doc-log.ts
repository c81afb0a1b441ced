import type { StorageAdapter, StorageKey } from '@valv/storage'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

// Zero-padded so the adapter's byte-ordered `list` returns sequence order.
const pad = (n: number, width: number) => n.toString().padStart(width, '0')
const SEQ = 15
const IDX = 9

/** A stored snapshot: covers updates `1..upToSeq`; `counters` are the relay's freshness state. */
export interface StoredSnapshot {
  readonly upToSeq: number
  readonly bytes: Uint8Array
  readonly counters: ReadonlyMap<string, number>
}

/**
 * Key layout of one document over a {@link StorageAdapter}:
 * `relay/<doc>/log/<seq>`, `relay/<doc>/member/<index>`, `relay/<doc>/snapshot/<upToSeq>`.
 * Every write resolves once durable (the adapter's contract). Compaction writes the new
 * snapshot before deleting the previous one and the covered log entries.
 */
export class DocLog {
  constructor(
    private readonly storage: StorageAdapter,
    readonly docId: string,
  ) {}

  private key(kind: string, n: number, width: number): StorageKey {
    return ['relay', this.docId, kind, pad(n, width)]
  }

  async appendUpdate(seq: number, envelope: Uint8Array): Promise<void> {
    await this.storage.put(this.key('log', seq, SEQ), envelope)
  }

  async appendMember(index: number, entry: Uint8Array): Promise<void> {
    await this.storage.put(this.key('member', index, IDX), entry)
  }

  async *readUpdates(afterSeq: number): AsyncIterable<{ seq: number; envelope: Uint8Array }> {
    const range = { prefix: ['relay', this.docId, 'log'], start: pad(afterSeq + 1, SEQ) }
    for await (const e of this.storage.list(range)) {
      yield { seq: Number(e.key[e.key.length - 1]), envelope: e.value }
    }
  }

  async readMembers(): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    for await (const e of this.storage.list({ prefix: ['relay', this.docId, 'member'] })) {
      // A gap means a crashed write of a later index cannot exist (appends are serialized).
      out.push(e.value)
    }
    return out
  }

  async readSnapshot(): Promise<StoredSnapshot | undefined> {
    let last: Uint8Array | undefined
    for await (const e of this.storage.list({ prefix: ['relay', this.docId, 'snapshot'] })) {
      last = e.value
    }
    return last && decodeSnapshot(last)
  }

  /** Store `next`, then delete the previous snapshot and every update it covers. */
  async replaceSnapshot(prevUpToSeq: number, next: StoredSnapshot): Promise<void> {
    await this.storage.put(this.key('snapshot', next.upToSeq, SEQ), encodeSnapshot(next))
    if (prevUpToSeq > 0) await this.storage.delete(this.key('snapshot', prevUpToSeq, SEQ))
    const covered = this.storage.list({
      prefix: ['relay', this.docId, 'log'],
      end: pad(next.upToSeq + 1, SEQ),
    })
    const keys: StorageKey[] = []
    for await (const e of covered) keys.push(e.key)
    for (const k of keys) await this.storage.delete(k)
  }
}

function encodeSnapshot(s: StoredSnapshot): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, s.upToSeq)
  encoding.writeVarUint(enc, s.counters.size)
  for (const [author, counter] of s.counters) {
    encoding.writeVarString(enc, author)
    encoding.writeVarUint(enc, counter)
  }
  encoding.writeVarUint8Array(enc, s.bytes)
  return encoding.toUint8Array(enc)
}

function decodeSnapshot(raw: Uint8Array): StoredSnapshot {
  const dec = decoding.createDecoder(raw)
  const upToSeq = decoding.readVarUint(dec)
  const counters = new Map<string, number>()
  for (let n = decoding.readVarUint(dec); n > 0; n--) {
    counters.set(decoding.readVarString(dec), decoding.readVarUint(dec))
  }
  return { upToSeq, counters, bytes: decoding.readVarUint8Array(dec).slice() }
}
