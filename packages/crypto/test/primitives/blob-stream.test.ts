import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { sha256 } from '@noble/hashes/sha2.js'
import { CryptoError, toBase64Url } from '@valv/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  BLOB_HEADER_LENGTH,
  blobId,
  decryptBlob,
  decryptBlobStream,
  encryptBlob,
  encryptBlobStream,
  encryptedBlobSize,
} from '../../src/primitives/blob-stream.js'
import { concatBytes, randomBytes, utf8 } from '../../src/primitives/bytes.js'
import { expectCode, expectCodeAsync } from './expect-code.js'

async function pipe(ts: TransformStream<Uint8Array, Uint8Array>, pieces: Uint8Array[]) {
  const out: Uint8Array[] = []
  const source = new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of pieces) c.enqueue(p)
      c.close()
    },
  })
  await source.pipeThrough(ts).pipeTo(new WritableStream({ write: (c) => void out.push(c) }))
  return concatBytes(...out)
}

/** Split `bytes` at the given (sorted, deduplicated) cut points. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let prev = 0
  for (const p of [...points, bytes.length]) {
    out.push(bytes.slice(prev, p))
    prev = p
  }
  return out
}

const CHUNK = 16
const SEALED = CHUNK + 16

/** Parse a small-chunk blob into header and sealed chunks, to tamper with them. */
function chunksOf(ct: Uint8Array): { header: Uint8Array; chunks: Uint8Array[] } {
  const chunks: Uint8Array[] = []
  for (let i = BLOB_HEADER_LENGTH; i < ct.length; i += SEALED) chunks.push(ct.slice(i, i + SEALED))
  return { header: ct.slice(0, BLOB_HEADER_LENGTH), chunks }
}

/** Both decryptors must reject `bad` with one of `codes`; returns the in-memory one's code. */
async function rejects(key: Uint8Array, bad: Uint8Array, codes: string[], cuts: number[] = []) {
  let code: string | undefined
  try {
    decryptBlob(key, bad)
  } catch (err) {
    expect(err).toBeInstanceOf(CryptoError)
    code = (err as CryptoError).code
  }
  expect(codes).toContain(code)
  const streamed = await pipe(decryptBlobStream(key), split(bad, cuts)).then(
    () => 'accepted',
    (err: unknown) => (err as CryptoError).code,
  )
  expect(streamed).toBe(code)
  return code
}

const multiChunk = fc.uint8Array({ minLength: CHUNK * 2 + 1, maxLength: CHUNK * 8 })

describe('blob stream', () => {
  it('round-trips in memory and streamed, with any split, in the documented size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 200 }),
        fc.array(fc.nat(400), { maxLength: 6 }),
        fc.array(fc.nat(400), { maxLength: 6 }),
        async (pt, cutsIn, cutsOut) => {
          const { key, ciphertext } = encryptBlob(pt, { chunkSize: CHUNK })
          expect(ciphertext).toHaveLength(encryptedBlobSize(pt.length, CHUNK))
          expect(decryptBlob(key, ciphertext)).toEqual(pt)
          const enc = encryptBlobStream({ key, chunkSize: CHUNK })
          const streamed = await pipe(enc.stream, split(pt, cutsIn))
          expect(streamed).toHaveLength(ciphertext.length)
          expect(await pipe(decryptBlobStream(key), split(streamed, cutsOut))).toEqual(pt)
        },
      ),
      { numRuns: 60 },
    )
  })

  it('streamed and in-memory encryption are byte-identical given key and prefix', async () => {
    const opts = { key: new Uint8Array(32).fill(1), prefix: new Uint8Array(16).fill(2) }
    const pt = randomBytes(200_000)
    const a = encryptBlob(pt, opts).ciphertext
    const b = await pipe(encryptBlobStream(opts).stream, split(pt, [1, 70_000, 131_072]))
    expect(b).toEqual(a)
    expect(encryptedBlobSize(200_000)).toBe(21 + 200_000 + 4 * 16)
    expect(encryptedBlobSize(0)).toBe(21 + 16)
    expect(encryptedBlobSize(65_536)).toBe(21 + 65_536 + 16)
  })

  it('rejects any single bit flip', async () => {
    await fc.assert(
      fc.asyncProperty(multiChunk, fc.nat(), fc.array(fc.nat(300)), async (pt, bit, cuts) => {
        const { key, ciphertext } = encryptBlob(pt, { chunkSize: CHUNK })
        const i = bit % (ciphertext.length * 8)
        const bad = ciphertext.slice()
        bad[i >> 3] = (bad[i >> 3] as number) ^ (1 << (i & 7))
        const headerCodes = ['unsupported-version', 'malformed', 'decrypt-failed', 'truncated']
        await rejects(key, bad, i < BLOB_HEADER_LENGTH * 8 ? headerCodes : ['decrypt-failed'], cuts)
      }),
      { numRuns: 80 },
    )
  })

  it('rejects dropping, swapping or duplicating a chunk, and appending', async () => {
    await fc.assert(
      fc.asyncProperty(multiChunk, fc.nat(), fc.nat(), async (pt, a, b) => {
        const { key, ciphertext } = encryptBlob(pt, { chunkSize: CHUNK })
        const { header, chunks } = chunksOf(ciphertext)
        const n = chunks.length
        const i = a % n
        const j = (i + 1 + (b % (n - 1))) % n
        const dropped = chunks.filter((_, k) => k !== i)
        await rejects(
          key,
          concatBytes(header, ...dropped),
          i === n - 1 ? ['truncated'] : ['decrypt-failed'],
        )
        const swapped = chunks.slice()
        ;[swapped[i], swapped[j]] = [chunks[j] as Uint8Array, chunks[i] as Uint8Array]
        await rejects(key, concatBytes(header, ...swapped), ['decrypt-failed'])
        const dup = [...chunks.slice(0, i + 1), chunks[i] as Uint8Array, ...chunks.slice(i + 1)]
        await rejects(key, concatBytes(header, ...dup), ['decrypt-failed'])
        await rejects(key, concatBytes(ciphertext, new Uint8Array([0])), ['decrypt-failed'])
      }),
      { numRuns: 60 },
    )
  })

  it('rejects truncation anywhere; at a chunk boundary it says truncated', async () => {
    await fc.assert(
      fc.asyncProperty(multiChunk, fc.nat(), async (pt, at) => {
        const { key, ciphertext } = encryptBlob(pt, { chunkSize: CHUNK })
        const cut = at % ciphertext.length
        const code = await rejects(key, ciphertext.subarray(0, cut), [
          'truncated',
          'decrypt-failed',
        ])
        const boundary = cut >= BLOB_HEADER_LENGTH && (cut - BLOB_HEADER_LENGTH) % SEALED === 0
        if (boundary || cut < BLOB_HEADER_LENGTH + 16) expect(code).toBe('truncated')
      }),
      { numRuns: 80 },
    )
  })

  it('rejects a wrong key, other files’ chunks, bad headers and bad options', async () => {
    const a = encryptBlob(randomBytes(100), { chunkSize: CHUNK })
    const b = encryptBlob(randomBytes(100), { key: a.key, chunkSize: CHUNK })
    await rejects(randomBytes(32), a.ciphertext, ['decrypt-failed'])
    // Same key, different random prefix: chunks do not move between files.
    const mixed = concatBytes(
      a.ciphertext.subarray(0, 21 + SEALED),
      b.ciphertext.subarray(21 + SEALED),
    )
    await rejects(a.key, mixed, ['decrypt-failed'])
    const zeroChunk = a.ciphertext.slice()
    zeroChunk.set([0, 0, 0, 0], 1)
    await rejects(a.key, zeroChunk, ['malformed'])
    const v2 = a.ciphertext.slice()
    v2[0] = 2
    await rejects(a.key, v2, ['unsupported-version'])
    expectCode(() => encryptBlob(new Uint8Array(1), { key: new Uint8Array(16) }), 'invalid-key')
    expectCode(() => encryptBlob(new Uint8Array(1), { chunkSize: 0 }), 'malformed')
    expectCode(() => encryptBlobStream({ chunkSize: 2 ** 24 + 1 }), 'malformed')
    expectCode(() => decryptBlobStream(new Uint8Array(31)), 'invalid-key')
    await expectCodeAsync(
      pipe(decryptBlobStream(a.key), [a.ciphertext.subarray(0, 10)]),
      'truncated',
    )
    const notBytes = ['text' as unknown as Uint8Array]
    await expectCodeAsync(pipe(encryptBlobStream().stream, notBytes), 'malformed')
  })

  it('streams 64 MiB in bounded memory', async () => {
    const total = 64 * 1024 * 1024
    const piece = 100_003 // deliberately not aligned to the chunk size
    const byteAt = (i: number) => (Math.imul(i, 2654435761) >>> 24) & 0xff
    let produced = 0
    const source = new ReadableStream<Uint8Array>({
      pull(c) {
        const n = Math.min(piece, total - produced)
        const p = new Uint8Array(n)
        for (let k = 0; k < n; k++) p[k] = byteAt(produced + k)
        produced += n
        c.enqueue(p)
        if (produced === total) c.close()
      },
    })
    // Expose V8's collector so samples count live memory, not garbage awaiting collection.
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    gc()
    const heapBase = process.memoryUsage().heapUsed
    let heapPeak = 0
    let samples = 0
    let inFlight = 0
    let checked = 0
    let mismatches = 0
    const { key, stream } = encryptBlobStream()
    await source
      .pipeThrough(stream)
      .pipeThrough(decryptBlobStream(key))
      .pipeTo(
        new WritableStream({
          write(chunk) {
            for (let k = 0; k < chunk.length; k += 4099)
              if (chunk[k] !== byteAt(checked + k)) mismatches++
            const before = checked
            checked += chunk.length
            inFlight = Math.max(inFlight, produced - checked)
            if (checked >> 22 !== before >> 22) {
              gc()
              heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed - heapBase)
              samples++
            }
          },
        }),
      )
    expect(checked).toBe(total)
    expect(mismatches).toBe(0)
    expect(samples).toBe(16)
    expect(heapPeak).toBeLessThan(32 * 1024 * 1024)
    // Chunk bytes live in ArrayBuffers outside the heap, which a background sweeper frees at
    // its own pace; so also bound what the pipeline holds: produced minus delivered plaintext.
    expect(inFlight).toBeLessThan(1024 * 1024)
  }, 120_000)
})

describe('blobId', () => {
  it('is a keyed, deterministic base64url HMAC, never the plain hash', () => {
    const idKey = randomBytes(32)
    const h = sha256(utf8('quarterly report'))
    const id = blobId(idKey, h)
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(blobId(idKey, h)).toBe(id)
    expect(blobId(randomBytes(32), h)).not.toBe(id)
    expect(blobId(idKey, sha256(utf8('other')))).not.toBe(id)
    expect(id).not.toBe(toBase64Url(h))
    expectCode(() => blobId(new Uint8Array(16), h), 'invalid-key')
  })
})
