/**
 * File transfer through the real relay on loopback: one 16 MiB file (quick: 4 MiB) uploaded
 * with `uploadFile` and downloaded with `downloadFile` of `@valv/provider-websocket` by a real
 * `WebsocketProvider` and `DocumentSession`, through a real `Relay` in this process
 * (`defaultVerifier()`, `MemoryStorageAdapter`). Upload: until the relay acknowledged the commit
 * (every chunk durable). Download: until the last plaintext byte was decrypted and read.
 *
 * Baseline, in the same run: the client-side crypto alone — the same session's `encryptFile`
 * (resp. `decryptFile`) transform over the same bytes, in the same 256 KiB slices — so the ratio
 * is the share of pure crypto throughput left once relay and wire are added (1× = no overhead).
 *
 * Memory: peak growth of `heapUsed` while the transfer runs, sampled every 10 ms over a GC'd
 * start. Relay and client share this process, so it is both of them (and it excludes the
 * ciphertext held by the memory storage, which lives in ArrayBuffers, not the JS heap).
 *
 * The relay's per-connection byte rate limit is lifted so the figure is the pipeline, not the
 * configured 8 MiB/s (whose 64 MiB burst a single file of this size would not exhaust anyway).
 * MB = 10^6 bytes of plaintext.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { DocumentSession, Identity } from '@valv/crypto'
import { deleteFile, downloadFile, uploadFile } from '@valv/provider-websocket'
import { cleanup, startStack } from '@valv/test-utils/stack'
import type { Benchmark, BenchRow } from './harness.js'

const MiB = 1024 * 1024
const SLICE = 256 * 1024

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Deterministic, incompressible-enough plaintext (the cipher does not care either way). */
function plaintext(size: number): Uint8Array {
  const out = new Uint8Array(size)
  let x = 0x9e3779b9
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

/** `bytes` as a stream of 256 KiB slices, as `uploadFile` feeds its encryptor. */
function sliced(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (let at = 0; at < bytes.length; at += SLICE) c.enqueue(bytes.subarray(at, at + SLICE))
      c.close()
    },
  })
}

/** Read `s` to the end; its chunks (kept only when `keep`) and their total length. */
async function drain(
  s: ReadableStream<Uint8Array>,
  keep = false,
): Promise<{ chunks: Uint8Array[]; length: number }> {
  const chunks: Uint8Array[] = []
  let length = 0
  const reader = s.getReader()
  for (;;) {
    const r = await reader.read()
    if (r.done) return { chunks, length }
    length += r.value.length
    if (keep) chunks.push(r.value)
  }
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000)

const bench: Benchmark = async ({ quick }) => {
  const size = (quick ? 4 : 16) * MiB
  const file = plaintext(size)
  const stack = await startStack({ limits: { bytesPerSecond: 1e12, byteBurst: 1e12 } })
  try {
    const anna = await DocumentSession.create(await Identity.create({ displayName: 'Anna' }))
    const p = await stack.connect(anna)

    // Warm up every path (module code, JIT, storage maps) with 1 MiB first.
    const warm = await uploadFile(p, anna, file.subarray(0, MiB))
    await drain(downloadFile(p, anna, warm))
    await deleteFile(p, anna, warm.blobId)
    const warmEnc = anna.encryptFile({ size: MiB })
    await drain(sliced(file.subarray(0, MiB)).pipeThrough(warmEnc.stream))

    // Baseline: the client crypto alone over the same bytes.
    let t = performance.now()
    const enc = anna.encryptFile({ size })
    const sealed = await drain(sliced(file).pipeThrough(enc.stream), true)
    const encryptMs = performance.now() - t
    const ciphertext = new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of sealed.chunks) c.enqueue(chunk)
        c.close()
      },
    })
    t = performance.now()
    const opened = await drain(ciphertext.pipeThrough(anna.decryptFile(enc.key)))
    const decryptMs = performance.now() - t
    if (opened.length !== size) throw new Error(`decrypted ${opened.length} of ${size} bytes`)
    sealed.chunks.length = 0

    // Through the relay, sampling the process heap meanwhile.
    gc()
    const heap0 = process.memoryUsage().heapUsed
    let peak = heap0
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed)
    }, 10)
    t = performance.now()
    const stored = await uploadFile(p, anna, file)
    const uploadMs = performance.now() - t
    t = performance.now()
    const back = await drain(downloadFile(p, anna, stored))
    const downloadMs = performance.now() - t
    clearInterval(sampler)
    peak = Math.max(peak, process.memoryUsage().heapUsed)
    if (back.length !== size) throw new Error(`downloaded ${back.length} of ${size} bytes`)
    await deleteFile(p, anna, stored.blobId)

    const label = `${size / MiB} MiB`
    const rows: BenchRow[] = [
      {
        name: `upload ${label} through relay (baseline: encryptFile alone)`,
        value: mbps(size, uploadMs),
        unit: 'MB/s',
        baseline: mbps(size, encryptMs),
      },
      {
        name: `download ${label} through relay (baseline: decryptFile alone)`,
        value: mbps(size, downloadMs),
        unit: 'MB/s',
        baseline: mbps(size, decryptMs),
      },
      {
        name: `ciphertext stored for ${label} (baseline: plaintext)`,
        value: stored.storedBytes / MiB,
        unit: 'MiB',
        baseline: size / MiB,
      },
      {
        name: `peak heapUsed growth during ${label} up+down (relay + client, one process)`,
        value: (peak - heap0) / MiB,
        unit: 'MiB',
        baseline: null,
      },
    ]
    return rows
  } finally {
    await cleanup()
  }
}

export default bench
