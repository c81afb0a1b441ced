/**
 * The storage workload, reusable for any adapter: append envelopes of realistic sizes to one
 * document's log through `DocumentStore` (as the relay does: idempotency check + durable put),
 * read the log back, and measure the bytes the backend occupies.
 *
 * Envelope sizes come from the automerge-paper trace: one Yjs update per edit (about 24 B of
 * overhead plus the inserted text) wrapped in about 120 B of envelope (header, nonce, tag,
 * signature). Contents are random (ciphertext does not compress).
 *
 * To add a backend (PostgreSQL, S3, …) to the table: call {@link storageRows} with an
 * {@link OpenBackend} for it, next to the local adapters in `bench/storage.bench.ts`.
 */
import { randomBytes } from 'node:crypto'
import { DocumentStore, type StorageAdapter } from '../packages/storage/src/index.js'
import { type BenchRow, loadTrace } from './harness.js'

const ENVELOPE_OVERHEAD = 120
const YJS_UPDATE_OVERHEAD = 24
/** Appends in flight at once, as a relay serving many clients would have. */
export const IN_FLIGHT = 32

/** Envelope byte strings sized like the trace's per-edit updates. */
export function traceEnvelopes(count: number): Uint8Array[] {
  const trace = loadTrace('automerge-paper', count)
  const encoder = new TextEncoder()
  const out: Uint8Array[] = []
  for (let i = 0; out.length < count; i++) {
    const edit = trace.edits[i % trace.edits.length]!
    const size = ENVELOPE_OVERHEAD + YJS_UPDATE_OVERHEAD + encoder.encode(edit.text).length
    out.push(new Uint8Array(randomBytes(size)))
  }
  return out
}

/** A backend under test: an adapter on empty storage, its footprint, and cleanup. */
export interface Backend {
  readonly adapter: StorageAdapter
  /** Bytes the backend occupies (files on disk, table sizes, …) after the appends. */
  readonly bytesUsed: () => Promise<number>
  /** Close the adapter and remove the storage. */
  readonly teardown: () => Promise<void>
}

/** Opens a fresh {@link Backend}. */
export type OpenBackend = () => Promise<Backend>

/** A raw-primitive reference for the same workload, or null when nothing compares. */
export interface Baseline {
  /** Seconds to append every envelope with the raw primitive. */
  readonly appendSeconds: number
  /** Seconds to read every envelope back. */
  readonly readSeconds: number
  /** Bytes the raw primitive occupies. */
  readonly bytesUsed: number
}

/** Run `task(i)` for every index with at most {@link IN_FLIGHT} pending; returns seconds. */
export async function timed(count: number, task: (i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(IN_FLIGHT, count) }, async () => {
      while (next < count) await task(next++)
    }),
  )
  return (performance.now() - start) / 1000
}

/** Append and read back `items` on a fresh backend; three rows named after `label`. */
export async function storageRows(
  label: string,
  open: OpenBackend,
  items: readonly Uint8Array[],
  baseline: Baseline | null = null,
): Promise<BenchRow[]> {
  const total = items.reduce((n, e) => n + e.byteLength, 0)
  const backend = await open()
  try {
    const store = new DocumentStore(backend.adapter)
    const appendS = await timed(items.length, (i) => store.appendLog('bench', i + 1, items[i]!))
    const start = performance.now()
    let read = 0
    for await (const entry of store.readLog('bench')) read += entry.bytes.byteLength
    const readS = (performance.now() - start) / 1000
    if (read !== total) throw new Error(`${label}: read back ${read} of ${total} bytes`)
    const used = await backend.bytesUsed()
    const n = items.length
    const mb = total / 1e6
    return [
      {
        name: `${label} appends/s (${IN_FLIGHT} in flight, durable)`,
        value: n / appendS,
        unit: 'ops/s',
        baseline: baseline ? n / baseline.appendSeconds : null,
      },
      {
        name: `${label} read`,
        value: mb / readS,
        unit: 'MB/s',
        baseline: baseline ? mb / baseline.readSeconds : null,
      },
      {
        name: `${label} bytes used per envelope`,
        value: used / n,
        unit: 'B',
        baseline: baseline ? baseline.bytesUsed / n : total / n,
      },
    ]
  } finally {
    await backend.teardown()
  }
}
