/**
 * The shared conformance suite for {@link StorageAdapter} implementations. Every Valv adapter
 * runs it; so can yours:
 *
 * ```ts
 * // my-adapter.test.ts (vitest)
 * import { runStorageAdapterTests } from '@valv/storage/conformance'
 * runStorageAdapterTests('MyAdapter', async () => {
 *   const backend = await createEmptyBackend()
 *   return {
 *     adapter: new MyAdapter(backend),
 *     teardown: () => backend.destroy(),
 *     scanRaw: () => backend.dumpEverything(), // optional, enables deletion-completeness checks
 *     reopen: async () => new MyAdapter(backend), // optional, enables 2-writer and durability checks
 *   }
 * })
 * ```
 *
 * `setup` is called once per test and must return an adapter on an EMPTY backend. The suite
 * closes adapters it gets from `reopen`; `teardown` closes the first adapter (close must be
 * idempotent, the suite may already have closed it) and removes the backend.
 *
 * Needs `vitest` (an optional peer dependency of `@valv/storage`) and `fast-check`. Memory
 * assertions use `process.memoryUsage()` and a forced GC; where those do not exist (a browser)
 * the large-blob test still streams and verifies every byte but cannot measure memory.
 *
 * @packageDocumentation
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { StorageAdapter, StorageKey } from './adapter.js'
import { StorageError } from './errors.js'

/**
 * Everything the backend physically holds, for deletion-completeness checks. Adapters that
 * cannot look below their own API should not provide `scanRaw`.
 */
export interface RawScan {
  /**
   * Every stored byte string: file contents, table cells, object bodies, and also every name
   * (file paths, key columns, object keys) as UTF-8. For databases, preferably the raw database
   * files themselves, so freed pages are covered too.
   */
  readonly items: readonly Uint8Array[]
  /**
   * Human-readable names of containers that exist but hold nothing and were not there when
   * the backend was empty: empty directories, empty per-document tables, empty prefixes.
   * Must be empty after any deletion.
   */
  readonly emptyContainers: readonly string[]
}

/** What `setup` returns for one test. */
export interface ConformanceHarness {
  /** An open adapter on an empty backend. */
  readonly adapter: StorageAdapter
  /** Close `adapter` (if still open) and remove the backend. */
  readonly teardown: () => Promise<void>
  /** Look at the raw backing store (see {@link RawScan}); enables deletion-completeness tests. */
  readonly scanRaw?: () => Promise<RawScan>
  /**
   * A NEW adapter instance on the same backend. Called while `adapter` is open (two concurrent
   * writers, e.g. two relay processes) and after `adapter.close()` (durability across restart).
   */
  readonly reopen?: () => Promise<StorageAdapter>
  /**
   * True for backends whose storage IS process memory (the memory adapter): the large-blob
   * test then only bounds transient memory, not what stays stored.
   */
  readonly holdsDataInMemory?: boolean
}

/** Tuning for {@link runStorageAdapterTests}. */
export interface ConformanceOptions {
  /** Size of the streamed blob; at least 50 MiB is what the Valv adapters promise. */
  readonly largeBlobBytes?: number
  /**
   * How far memory may grow while the large blob streams (default 16 MiB). Raise it for a
   * backend with a larger but still constant buffer (e.g. S3 multipart: parts in flight x part
   * size); it must stay independent of the blob size.
   */
  readonly memoryLimitBytes?: number
  /** Number of documents in the many-documents test (default 300). */
  readonly manyDocuments?: number
  /** fast-check runs of the model-based test (default 20). */
  readonly modelRuns?: number
  /** Per-test timeout in ms for the slow tests (default 120 000). */
  readonly timeoutMs?: number
}

const MiB = 1 << 20

/**
 * Register the conformance tests for one adapter as a vitest `describe` block.
 *
 * What passing proves: ordering and ranges (start inclusive, end exclusive, limit; an empty or
 * inverted range lists nothing and does not throw) in byte order of segments; `listChildren`;
 * values and blobs as separate namespaces; large values; a large blob streamed in constant
 * memory in both directions, atomic on a failing source; many documents; two concurrent
 * writers (racing writes to one key leave one whole value or blob, never a torn mix; of two
 * writes that follow each other the later wins); idempotent retries; `deletePrefix`/`delete` leave none
 * of the bytes or names behind and no empty containers (with `scanRaw`); invalid keys are
 * refused with `StorageError('invalid-key')` and change nothing; a closed adapter throws
 * `StorageError('closed')`; everything survives close + reopen (with `reopen`); a random
 * model-based history agrees with a plain in-memory model.
 *
 * @param name Shown in the test report.
 * @param setup Returns a fresh harness on an empty backend, once per test.
 * @param options Sizes and timeouts.
 * @example
 * ```ts
 * runStorageAdapterTests('MemoryStorageAdapter', async () => {
 *   const adapter = new MemoryStorageAdapter()
 *   return { adapter, teardown: () => adapter.close(), holdsDataInMemory: true }
 * })
 * ```
 */
export function runStorageAdapterTests(
  name: string,
  setup: () => Promise<ConformanceHarness>,
  options: ConformanceOptions = {},
): void {
  const blobBytes = options.largeBlobBytes ?? 50 * MiB
  const memoryLimit = options.memoryLimitBytes ?? 16 * MiB
  const manyDocs = options.manyDocuments ?? 300
  const slow = options.timeoutMs ?? 120_000

  /** Run `body` on a fresh harness and always tear down. */
  const withHarness =
    (body: (h: ConformanceHarness) => Promise<void>): (() => Promise<void>) =>
    async () => {
      const h = await setup()
      try {
        await body(h)
      } finally {
        await h.teardown()
      }
    }

  describe(`${name} (storage conformance)`, () => {
    it(
      'puts, gets, overwrites and deletes values; missing keys read as undefined',
      withHarness(async ({ adapter }) => {
        expect(await adapter.get(['a'])).toBeUndefined()
        await adapter.put(['a'], bytes(1, 2, 3))
        expect(await adapter.get(['a'])).toEqual(bytes(1, 2, 3))
        await adapter.put(['a'], bytes(9))
        expect(await adapter.get(['a'])).toEqual(bytes(9))
        await adapter.put(['empty'], new Uint8Array(0))
        expect(await adapter.get(['empty'])).toEqual(new Uint8Array(0))
        await adapter.delete(['a'])
        expect(await adapter.get(['a'])).toBeUndefined()
        // A caller mutating its buffer after put must not change what is stored.
        const buf = bytes(5, 5)
        await adapter.put(['m'], buf)
        buf[0] = 0
        expect(await adapter.get(['m'])).toEqual(bytes(5, 5))
      }),
    )

    it(
      'create (if implemented) writes only absent keys, exactly once among racing calls',
      withHarness(async ({ adapter }) => {
        const create = adapter.create?.bind(adapter)
        if (!create) return
        expect(await create(['c', 'k'], bytes(1))).toBe(true)
        expect(await create(['c', 'k'], bytes(2))).toBe(false)
        expect(await adapter.get(['c', 'k'])).toEqual(bytes(1))
        // A blob under the key is another namespace: it neither blocks nor is replaced.
        await adapter.putStream(['c', 'blob'], chunks(bytes(7)))
        expect(await create(['c', 'blob'], bytes(3))).toBe(true)
        const raced = await Promise.all(
          Array.from({ length: 10 }, (_, i) => create(['c', 'race'], bytes(i))),
        )
        expect(raced.filter(Boolean)).toHaveLength(1)
        expect(await adapter.get(['c', 'race'])).toEqual(bytes(raced.indexOf(true)))
      }),
    )

    it(
      'orders list and listChildren by segment bytes; a key can be a value and a prefix',
      withHarness(async ({ adapter }) => {
        const segs = ['b', 'a', 'a-b', 'a.b', 'a0', 'A', '0', '-', '~', '_', 'a~', 'aa', 'Z9']
        for (const [i, s] of segs.entries()) await adapter.put(['p', s], bytes(i))
        await adapter.put(['p', 'a', 'deeper'], bytes(99))
        await adapter.put(['p'], bytes(100))
        await adapter.putStream(['p', 'blobonly'], chunks(bytes(7)))
        const sorted = [...segs].sort(byteOrder)
        const listed = await drain(adapter.list({ prefix: ['p'] }))
        expect(listed.map((e) => e.key)).toEqual(sorted.map((s) => ['p', s]))
        for (const e of listed) expect(e.value).toEqual(bytes(segs.indexOf(e.key[1]!)))
        expect(await drain(adapter.listChildren(['p']))).toEqual(
          [...segs, 'blobonly'].sort(byteOrder),
        )
        expect(await drain(adapter.listChildren([]))).toEqual(['p'])
        expect((await drain(adapter.list({ prefix: [] }))).map((e) => e.key)).toEqual([['p']])
        expect(await adapter.get(['p'])).toEqual(bytes(100))
        expect((await drain(adapter.list({ prefix: ['p', 'a'] }))).map((e) => e.key)).toEqual([
          ['p', 'a', 'deeper'],
        ])
        expect(await drain(adapter.list({ prefix: ['nothing'] }))).toEqual([])
        expect(await drain(adapter.listChildren(['nothing']))).toEqual([])
      }),
    )

    it(
      'honours start (inclusive), end (exclusive) and limit',
      withHarness(async ({ adapter }) => {
        const keys = Array.from({ length: 120 }, (_, i) => String(i).padStart(6, '0'))
        await Promise.all(keys.map((k, i) => adapter.put(['log', k], bytes(i))))
        const seg = async (range: { start?: string; end?: string; limit?: number }) =>
          (await drain(adapter.list({ prefix: ['log'], ...range }))).map((e) => e.key[1])
        expect(await seg({})).toEqual(keys)
        expect(await seg({ start: '000010', end: '000020' })).toEqual(keys.slice(10, 20))
        expect(await seg({ start: '000010', limit: 3 })).toEqual(keys.slice(10, 13))
        expect(await seg({ end: '000005' })).toEqual(keys.slice(0, 5))
        expect(await seg({ start: '0001050' })).toEqual(keys.slice(106))
        expect(await seg({ start: '000050', end: '000050' })).toEqual([])
        // An empty or inverted range is an empty result on every adapter, never an error.
        expect(await seg({ start: '000060', end: '000050' })).toEqual([])
        expect(await seg({ start: '000060', end: '000050', limit: 5 })).toEqual([])
        expect(await seg({ limit: 0 })).toEqual([])
        expect(await seg({ start: '1' })).toEqual([])
        // Paging with start = last + '\0'-free successor works from the caller's side.
        const pages: string[] = []
        let start: string | undefined
        for (;;) {
          const page = await seg(start === undefined ? { limit: 25 } : { start, limit: 25 })
          pages.push(...(page as string[]))
          if (page.length < 25) break
          start = `${page.at(-1)}0`
        }
        expect(pages).toEqual(keys)
      }),
    )

    it(
      'keeps values and blobs apart: list and get see values only; delete removes both',
      withHarness(async ({ adapter }) => {
        await adapter.put(['d', 'k'], bytes(1))
        await adapter.putStream(['d', 'k'], chunks(bytes(2, 2)))
        await adapter.putStream(['d', 'b'], chunks(bytes(3)))
        expect(await adapter.get(['d', 'k'])).toEqual(bytes(1))
        expect(await adapter.get(['d', 'b'])).toBeUndefined()
        expect(await concat(await mustStream(adapter, ['d', 'k']))).toEqual(bytes(2, 2))
        expect((await drain(adapter.list({ prefix: ['d'] }))).map((e) => e.key)).toEqual([
          ['d', 'k'],
        ])
        expect(await drain(adapter.listChildren(['d']))).toEqual(['b', 'k'])
        await adapter.delete(['d', 'k'])
        expect(await adapter.get(['d', 'k'])).toBeUndefined()
        expect(await adapter.getStream(['d', 'k'])).toBeUndefined()
        expect(await drain(adapter.listChildren(['d']))).toEqual(['b'])
      }),
    )

    it(
      'stores large values intact',
      withHarness(async ({ adapter }) => {
        const big = patternBytes(8 * MiB + 3, 11)
        await adapter.put(['big'], big)
        const back = await adapter.get(['big'])
        expect(back?.byteLength).toBe(big.byteLength)
        expect(equalBytes(back!, big)).toBe(true)
        const listed = await drain(adapter.list({ prefix: [] }))
        expect(equalBytes(listed[0]!.value, big)).toBe(true)
      }),
      slow,
    )

    it(
      `streams a ${Math.round(blobBytes / MiB)} MiB blob in and out in constant memory`,
      withHarness(async ({ adapter, holdsDataInMemory }) => {
        const key = ['docs', 'd1', 'blob', 'big']
        let written = -1
        const write = await measureMemory(async () => {
          written = await adapter.putStream(key, patternStream(blobBytes, 3))
        })
        expect(written).toBe(blobBytes)
        const read = await measureMemory(async () => {
          const stream = await mustStream(adapter, key)
          expect(await verifyPattern(stream, 3)).toBe(blobBytes)
        })
        if (write && read) {
          expect(write.peak - write.retained).toBeLessThan(memoryLimit)
          if (!holdsDataInMemory) expect(write.retained).toBeLessThan(memoryLimit)
          expect(read.peak).toBeLessThan(memoryLimit)
        }
        // Replacing it is atomic too: the new content, whole.
        expect(await adapter.putStream(key, patternStream(3 * MiB + 1, 4))).toBe(3 * MiB + 1)
        expect(await verifyPattern(await mustStream(adapter, key), 4)).toBe(3 * MiB + 1)
      }),
      slow,
    )

    it(
      'keeps the old blob when a source fails mid-stream, and leaves no partial blob',
      withHarness(async ({ adapter, scanRaw }) => {
        await adapter.putStream(['f', 'old'], patternStream(100_000, 5))
        const marker = randomMarker()
        const failing = async function* () {
          for (let i = 0; i < 8; i++) yield withMarker(marker, 256 * 1024)
          throw new Error('source broke')
        }
        await expect(adapter.putStream(['f', 'old'], failing())).rejects.toThrow()
        await expect(adapter.putStream(['f', 'new'], failing())).rejects.toThrow()
        expect(await verifyPattern(await mustStream(adapter, ['f', 'old']), 5)).toBe(100_000)
        expect(await adapter.getStream(['f', 'new'])).toBeUndefined()
        expect(await drain(adapter.listChildren(['f']))).toEqual(['old'])
        if (scanRaw) {
          expect((await scanRaw()).emptyContainers).toEqual([])
          // Whatever the failed writes left (temp files, orphan chunks) must not outlive a
          // deletion of the prefix they were aimed at.
          await adapter.deletePrefix(['f'])
          const after = await scanRaw()
          expect(after.emptyContainers).toEqual([])
          expect(contains(after, marker)).toBe(false)
        }
      }),
      slow,
    )

    it(
      'handles many documents written concurrently',
      withHarness(async ({ adapter }) => {
        const ids = Array.from({ length: manyDocs }, (_, i) => `doc-${String(i).padStart(5, '0')}`)
        await Promise.all(
          ids.map(async (id, i) => {
            await adapter.put(['docs', id, 'meta'], bytes(i & 0xff))
            await adapter.put(['docs', id, 'log', '000001'], bytes(1, i & 0xff))
          }),
        )
        expect(await drain(adapter.listChildren(['docs']))).toEqual(ids)
        for (const [i, id] of ids.entries()) {
          expect(await adapter.get(['docs', id, 'meta'])).toEqual(bytes(i & 0xff))
        }
        await adapter.deletePrefix(['docs', ids[0]!])
        expect((await drain(adapter.listChildren(['docs']))).length).toBe(manyDocs - 1)
      }),
      slow,
    )

    it(
      'lets two adapter instances on one backend write concurrently',
      withHarness(async ({ adapter, reopen }) => {
        const second = reopen ? await reopen() : adapter
        try {
          const writes: Promise<void>[] = []
          for (let i = 0; i < 100; i++) {
            writes.push(adapter.put(['w', `a${pad(i)}`], bytes(1, i)))
            writes.push(second.put(['w', `b${pad(i)}`], bytes(2, i)))
            // Both write the same key: one whole value must win, never a mix.
            writes.push(adapter.put(['same', pad(i)], patternBytes(4096, 1)))
            writes.push(second.put(['same', pad(i)], patternBytes(4096, 2)))
          }
          await Promise.all(writes)
          for (const reader of [adapter, second]) {
            const w = await drain(reader.list({ prefix: ['w'] }))
            expect(w.length).toBe(200)
            const same = await drain(reader.list({ prefix: ['same'] }))
            expect(same.length).toBe(100)
            for (const e of same) {
              const one = equalBytes(e.value, patternBytes(4096, 1))
              const two = equalBytes(e.value, patternBytes(4096, 2))
              expect(one || two).toBe(true)
            }
          }
          // Racing blob writes: one whole blob wins, never a torn mix of the two. Sizes on
          // both sides of S3's 5 MiB minimum part cover single and multipart uploads.
          for (const size of [MiB, 6 * MiB + 7]) {
            await Promise.all([
              adapter.putStream(['s', 'x'], patternStream(size, 1)),
              second.putStream(['s', 'x'], patternStream(size, 2)),
            ])
            for (const reader of [adapter, second]) {
              const seen = await concat(await mustStream(reader, ['s', 'x']))
              expect(
                equalBytes(seen, patternBytes(size, 1)) || equalBytes(seen, patternBytes(size, 2)),
              ).toBe(true)
            }
          }
          // Writes that follow each other: the later one wins, whichever instance made it.
          for (const [first, last] of [
            [adapter, second],
            [second, adapter],
          ] as const) {
            await first.put(['seq', 'v'], bytes(1))
            await last.put(['seq', 'v'], bytes(2))
            await first.putStream(['seq', 'b'], chunks(bytes(1)))
            await last.putStream(['seq', 'b'], chunks(bytes(2)))
            for (const reader of [adapter, second]) {
              expect(await reader.get(['seq', 'v'])).toEqual(bytes(2))
              expect(await concat(await mustStream(reader, ['seq', 'b']))).toEqual(bytes(2))
            }
          }
        } finally {
          if (second !== adapter) await second.close()
        }
      }),
      slow,
    )

    it(
      'treats retries as idempotent',
      withHarness(async ({ adapter }) => {
        await adapter.put(['r', 'k'], bytes(1))
        await adapter.put(['r', 'k'], bytes(1))
        await Promise.all([adapter.put(['r', 'p'], bytes(2)), adapter.put(['r', 'p'], bytes(2))])
        expect(await drain(adapter.list({ prefix: ['r'] }))).toEqual([
          { key: ['r', 'k'], value: bytes(1) },
          { key: ['r', 'p'], value: bytes(2) },
        ])
        await adapter.putStream(['r', 'b'], chunks(bytes(3)))
        await adapter.putStream(['r', 'b'], chunks(bytes(3)))
        expect(await concat(await mustStream(adapter, ['r', 'b']))).toEqual(bytes(3))
        await adapter.delete(['r', 'k'])
        await adapter.delete(['r', 'k'])
        await adapter.delete(['never', 'there'])
        await adapter.deletePrefix(['r', 'b'])
        await adapter.deletePrefix(['r', 'b'])
        await adapter.deletePrefix(['never'])
        expect(await drain(adapter.listChildren(['r']))).toEqual(['p'])
      }),
    )

    it(
      'deletePrefix removes every byte and name of a document and leaves no empty containers',
      withHarness(async ({ adapter, scanRaw }) => {
        const gone = randomMarker()
        const kept = randomMarker()
        const goneId = `gone${hex(gone).slice(0, 16)}`
        const keptId = `kept${hex(kept).slice(0, 16)}`
        for (const [id, marker] of [
          [goneId, gone],
          [keptId, kept],
        ] as const) {
          for (let i = 0; i < 20; i++) {
            await adapter.put(['docs', id, 'log', pad(i)], withMarker(marker, 200 + i))
          }
          await adapter.put(['docs', id, 'snap', '000019'], withMarker(marker, 5000))
          await adapter.put(['docs', id], withMarker(marker, 10))
          await adapter.putStream(['docs', id, 'blob', 'f'], chunks(withMarker(marker, 3 * MiB)))
        }
        await adapter.deletePrefix(['docs', goneId])
        expect(await adapter.get(['docs', goneId])).toBeUndefined()
        expect(await adapter.getStream(['docs', goneId, 'blob', 'f'])).toBeUndefined()
        expect(await drain(adapter.list({ prefix: ['docs', goneId, 'log'] }))).toEqual([])
        expect(await drain(adapter.listChildren(['docs', goneId]))).toEqual([])
        expect(await drain(adapter.listChildren(['docs']))).toEqual([keptId])
        expect((await drain(adapter.list({ prefix: ['docs', keptId, 'log'] }))).length).toBe(20)
        expect(await adapter.get(['docs', keptId])).toEqual(withMarker(kept, 10))
        if (scanRaw) {
          const scan = await scanRaw()
          expect(scan.emptyContainers).toEqual([])
          expect(contains(scan, gone)).toBe(false)
          expect(contains(scan, utf8(goneId))).toBe(false)
          expect(contains(scan, kept)).toBe(true)
          await adapter.deletePrefix([])
          const empty = await scanRaw()
          expect(empty.emptyContainers).toEqual([])
          expect(contains(empty, kept)).toBe(false)
          expect(contains(empty, utf8(keptId))).toBe(false)
        }
        await adapter.deletePrefix([])
        expect(await drain(adapter.listChildren([]))).toEqual([])
      }),
      slow,
    )

    it(
      'delete of a deep key leaves no empty containers behind',
      withHarness(async ({ adapter, scanRaw }) => {
        await adapter.put(['x', 'y', 'z'], bytes(1))
        await adapter.putStream(['x', 'y', 'blob'], chunks(bytes(2)))
        await adapter.put(['x', 'keep'], bytes(3))
        await adapter.delete(['x', 'y', 'z'])
        await adapter.delete(['x', 'y', 'blob'])
        expect(await drain(adapter.listChildren(['x']))).toEqual(['keep'])
        expect(await drain(adapter.listChildren(['x', 'y']))).toEqual([])
        if (scanRaw) expect((await scanRaw()).emptyContainers).toEqual([])
        await adapter.delete(['x', 'keep'])
        expect(await drain(adapter.listChildren([]))).toEqual([])
        if (scanRaw) expect((await scanRaw()).emptyContainers).toEqual([])
      }),
    )

    it(
      "rejects invalid keys with StorageError('invalid-key') and changes nothing",
      withHarness(async ({ adapter, scanRaw }) => {
        await adapter.put(['ok'], bytes(1))
        const before = await snapshot(adapter)
        const raw = scanRaw ? totalBytes(await scanRaw()) : 0
        const bad = ['', '.', '..', 'a/b', 'a\\b', 'a b', 'ä', '\u0000', 'x'.repeat(201), '%2F']
        for (const seg of bad) {
          const keys: StorageKey[] = [[seg], ['ok', seg], [seg, 'ok']]
          for (const key of keys) {
            await expectCode(() => adapter.put(key, bytes(2)), 'invalid-key')
            await expectCode(() => adapter.get(key), 'invalid-key')
            await expectCode(() => adapter.delete(key), 'invalid-key')
            await expectCode(() => adapter.deletePrefix(key), 'invalid-key')
            await expectCode(() => adapter.putStream(key, chunks(bytes(2))), 'invalid-key')
            await expectCode(() => adapter.getStream(key), 'invalid-key')
            await expectCode(() => drain(adapter.list({ prefix: key })), 'invalid-key')
            await expectCode(() => drain(adapter.listChildren(key)), 'invalid-key')
          }
        }
        for (const empty of [[] as string[]]) {
          await expectCode(() => adapter.put(empty, bytes(2)), 'invalid-key')
          await expectCode(() => adapter.get(empty), 'invalid-key')
          await expectCode(() => adapter.delete(empty), 'invalid-key')
          await expectCode(() => adapter.putStream(empty, chunks(bytes(2))), 'invalid-key')
          await expectCode(() => adapter.getStream(empty), 'invalid-key')
        }
        expect(await snapshot(adapter)).toEqual(before)
        if (scanRaw) expect(totalBytes(await scanRaw())).toBe(raw)
        // The longest valid segment works.
        await adapter.put(['x'.repeat(200)], bytes(4))
        expect(await adapter.get(['x'.repeat(200)])).toEqual(bytes(4))
      }),
    )

    it(
      "throws StorageError('closed') after close; close is idempotent",
      withHarness(async ({ adapter }) => {
        await adapter.put(['k'], bytes(1))
        await adapter.close()
        await adapter.close()
        await expectCode(() => adapter.get(['k']), 'closed')
        await expectCode(() => adapter.put(['k'], bytes(2)), 'closed')
        await expectCode(() => adapter.delete(['k']), 'closed')
        await expectCode(() => adapter.deletePrefix(['k']), 'closed')
        await expectCode(() => adapter.putStream(['k'], chunks(bytes(2))), 'closed')
        await expectCode(() => adapter.getStream(['k']), 'closed')
        await expectCode(() => drain(adapter.list({ prefix: [] })), 'closed')
        await expectCode(() => drain(adapter.listChildren([])), 'closed')
      }),
    )

    it(
      'keeps everything acknowledged across close and reopen',
      withHarness(async ({ adapter, reopen }) => {
        await adapter.put(['d', 'a'], bytes(1))
        await adapter.put(['d', 'b'], bytes(2))
        await adapter.put(['d', 'c'], bytes(3))
        await adapter.delete(['d', 'b'])
        await adapter.putStream(['d', 'blob'], patternStream(300_000, 9))
        if (!reopen) {
          expect(await snapshot(adapter)).toEqual({ children: ['d'], values: ['d/a=1', 'd/c=3'] })
          return
        }
        await adapter.close()
        const again = await reopen()
        try {
          expect(await snapshot(again)).toEqual({ children: ['d'], values: ['d/a=1', 'd/c=3'] })
          expect(await verifyPattern(await mustStream(again, ['d', 'blob']), 9)).toBe(300_000)
        } finally {
          await again.close()
        }
      }),
    )

    it(
      'agrees with a plain in-memory model on random histories',
      withHarness(async ({ adapter }) => {
        await checkAgainstModel(adapter, options.modelRuns ?? 20)
      }),
      slow,
    )
  })
}

// ---- model-based check ----

type Op =
  | { kind: 'put'; key: string[]; byte: number }
  | { kind: 'blob'; key: string[]; byte: number }
  | { kind: 'delete'; key: string[] }
  | { kind: 'deletePrefix'; key: string[] }

// An alphabet that stresses ordering around '-', '.' and '0', and keys that are both a value
// and a prefix of other keys.
const segmentArb = fc.constantFrom('a', 'a-', 'a.', 'a0', 'a-b', 'b', '-', '0', 'A', '~')
const keyArb = fc.array(segmentArb, { minLength: 1, maxLength: 3 })
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('put' as const), key: keyArb, byte: fc.nat(255) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('blob' as const), key: keyArb, byte: fc.nat(255) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keyArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deletePrefix' as const),
      key: fc.array(segmentArb, { maxLength: 2 }),
    }),
  },
)

/**
 * The suite's model-based property check on its own: random puts, blob writes, deletes and
 * prefix deletes, after which every listing, value and blob must equal a plain in-memory model.
 * It clears the adapter (`deletePrefix([])`) before each run and at the end.
 *
 * @example
 * ```ts
 * import { it } from 'vitest'
 * it('agrees with a model', () => checkAgainstModel(new MemoryStorageAdapter(), 50))
 * ```
 */
export async function checkAgainstModel(adapter: StorageAdapter, numRuns: number): Promise<void> {
  const id = (k: StorageKey) => k.join('/')
  const startsWith = (k: StorageKey, p: StorageKey) =>
    k.length >= p.length && p.every((s, i) => k[i] === s)
  await fc.assert(
    fc.asyncProperty(
      fc.array(opArb, { maxLength: 25 }),
      fc.array(segmentArb, { maxLength: 2 }),
      async (ops, probe) => {
        await adapter.deletePrefix([])
        const values = new Map<string, { key: string[]; byte: number }>()
        const blobs = new Map<string, { key: string[]; byte: number }>()
        for (const o of ops) {
          if (o.kind === 'put') {
            await adapter.put(o.key, bytes(o.byte))
            values.set(id(o.key), o)
          } else if (o.kind === 'blob') {
            await adapter.putStream(o.key, chunks(bytes(o.byte), bytes(o.byte)))
            blobs.set(id(o.key), o)
          } else if (o.kind === 'delete') {
            await adapter.delete(o.key)
            values.delete(id(o.key))
            blobs.delete(id(o.key))
          } else {
            await adapter.deletePrefix(o.key)
            for (const m of [values, blobs]) {
              for (const [k, v] of m) if (startsWith(v.key, o.key)) m.delete(k)
            }
          }
        }
        for (const prefix of [[], probe, probe.slice(0, 1)]) {
          const direct = [...values.values()]
            .filter((v) => v.key.length === prefix.length + 1 && startsWith(v.key, prefix))
            .sort((a, b) => byteOrder(a.key.at(-1)!, b.key.at(-1)!))
          const listed = await drain(adapter.list({ prefix }))
          expect(listed.map((e) => [e.key, [...e.value]])).toEqual(
            direct.map((v) => [v.key, [v.byte]]),
          )
          const ranged = await drain(adapter.list({ prefix, start: 'a-', end: 'a0', limit: 2 }))
          expect(ranged.map((e) => e.key)).toEqual(
            direct
              .filter((v) => v.key.at(-1)! >= 'a-' && v.key.at(-1)! < 'a0')
              .slice(0, 2)
              .map((v) => v.key),
          )
          const children = [
            ...new Set(
              [...values.values(), ...blobs.values()]
                .filter((v) => v.key.length > prefix.length && startsWith(v.key, prefix))
                .map((v) => v.key[prefix.length]!),
            ),
          ].sort(byteOrder)
          expect(await drain(adapter.listChildren(prefix))).toEqual(children)
        }
        for (const v of values.values()) expect(await adapter.get(v.key)).toEqual(bytes(v.byte))
        for (const b of blobs.values()) {
          expect([...(await concat(await mustStream(adapter, b.key)))]).toEqual([b.byte, b.byte])
        }
      },
    ),
    { numRuns },
  )
  await adapter.deletePrefix([])
}

// ---- helpers ----

const bytes = (...values: number[]) => new Uint8Array(values)
const pad = (i: number) => String(i).padStart(6, '0')
const utf8 = (s: string) => new TextEncoder().encode(s)
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p
}

async function drain<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

async function concat(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts = await drain(stream)
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.byteLength
  }
  return out
}

async function mustStream(adapter: StorageAdapter, key: StorageKey) {
  const stream = await adapter.getStream(key)
  expect(stream, `blob ${key.join('/')} exists`).toBeDefined()
  return stream!
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}

// Not periodic at 256 (the i >>> 8 term), so a misplaced or repeated chunk is detected.
const patternByte = (i: number, seed: number) => (i * 31 + (i >>> 8) + seed) & 0xff

function patternBytes(length: number, seed: number, from = 0): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = patternByte(from + i, seed)
  return out
}

/** A lazily generated stream of odd-sized pieces (never aligned to backend chunk sizes). */
async function* patternStream(total: number, seed: number): AsyncGenerator<Uint8Array> {
  const piece = 65_521
  for (let offset = 0; offset < total; offset += piece) {
    yield patternBytes(Math.min(piece, total - offset), seed, offset)
  }
}

/** Check a stream byte by byte against the pattern; returns its length. */
async function verifyPattern(stream: AsyncIterable<Uint8Array>, seed: number): Promise<number> {
  let offset = 0
  for await (const part of stream) {
    for (let i = 0; i < part.byteLength; i++) {
      if (part[i] !== patternByte(offset + i, seed)) {
        throw new Error(`blob differs at byte ${offset + i}`)
      }
    }
    offset += part.byteLength
  }
  return offset
}

function randomMarker(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(24))
}

/** `length` bytes made of the marker repeated, so any surviving fragment is found. */
function withMarker(marker: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = marker[i % marker.byteLength]!
  return out
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  const first = needle[0]
  outer: for (let i = hay.indexOf(first!); i !== -1 && i <= hay.byteLength - needle.byteLength; ) {
    for (let j = 1; j < needle.byteLength; j++) {
      if (hay[i + j] !== needle[j]) {
        i = hay.indexOf(first!, i + 1)
        continue outer
      }
    }
    return i
  }
  return -1
}

/** Whether any raw item holds the needle (or its first 16 bytes, to catch fragments). */
function contains(scan: RawScan, needle: Uint8Array): boolean {
  const probe = needle.subarray(0, Math.min(16, needle.byteLength))
  return scan.items.some((item) => indexOf(item, probe) !== -1)
}

const totalBytes = (scan: RawScan) => scan.items.reduce((n, i) => n + i.byteLength, 0)

async function snapshot(adapter: StorageAdapter) {
  const values: string[] = []
  const walk = async (prefix: string[]): Promise<void> => {
    for await (const e of adapter.list({ prefix }))
      values.push(`${e.key.join('/')}=${[...e.value]}`)
    for await (const child of adapter.listChildren(prefix)) await walk([...prefix, child])
  }
  await walk([])
  return { children: await drain(adapter.listChildren([])), values: values.sort() }
}

async function expectCode(run: () => Promise<unknown>, code: StorageError['code']) {
  let caught: unknown
  try {
    await run()
  } catch (error) {
    caught = error
  }
  expect(caught, `expected StorageError('${code}')`).toBeInstanceOf(StorageError)
  expect((caught as StorageError).code).toBe(code)
}

interface MemorySample {
  /** Highest growth of live heap + array buffers while running. */
  readonly peak: number
  /** Growth still live after running (what the backend keeps). */
  readonly retained: number
}

type Gc = () => void

let gcFn: Gc | null | undefined

/** A forced GC where the platform allows it, so samples measure live memory, not garbage. */
async function getGc(): Promise<Gc | null> {
  if (gcFn !== undefined) return gcFn
  const g = (globalThis as { gc?: Gc }).gc
  gcFn = null
  if (typeof g === 'function') gcFn = g
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process
  if (gcFn || !proc?.versions?.node) return gcFn
  try {
    const v8 = await import(/* @vite-ignore */ 'node:v8')
    const vm = await import(/* @vite-ignore */ 'node:vm')
    v8.setFlagsFromString('--expose-gc')
    gcFn = vm.runInNewContext('gc') as Gc
  } catch {
    gcFn = null
  }
  return gcFn
}

/** Peak and retained memory growth of `run`, or `undefined` where it cannot be measured. */
async function measureMemory(run: () => Promise<void>): Promise<MemorySample | undefined> {
  const gc = await getGc()
  const proc = (
    globalThis as {
      process?: { memoryUsage?: () => { heapUsed: number; arrayBuffers: number } }
    }
  ).process
  if (!gc || !proc?.memoryUsage) {
    await run()
    return undefined
  }
  const usage = proc.memoryUsage
  const used = () => {
    // Twice: V8 sweeps array buffers concurrently, so a single GC can still count the
    // backing stores it just freed.
    gc()
    gc()
    const m = usage()
    return m.heapUsed + m.arrayBuffers
  }
  const base = used()
  let peak = base
  // A forced GC can take tens of ms on a loaded machine: pause four times as long as the last
  // sample took, so sampling never takes more than a fifth of the time from the code it measures.
  let timer: ReturnType<typeof setTimeout> | undefined
  const sample = () => {
    const start = performance.now()
    peak = Math.max(peak, used())
    timer = setTimeout(sample, Math.max(25, 4 * (performance.now() - start)))
  }
  timer = setTimeout(sample, 25)
  try {
    await run()
  } finally {
    clearTimeout(timer)
  }
  const end = used()
  peak = Math.max(peak, end)
  return { peak: peak - base, retained: end - base }
}
