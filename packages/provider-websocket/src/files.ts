import { WebsocketProviderError } from './errors.js'
import { fileChannel, isConnectionLost } from './file-channel.js'
import type { WebsocketProvider } from './provider.js'

/**
 * What file transfer needs of a document's crypto: `DocumentSession` of `@valv/crypto` has all
 * three. Encryption and padding happen here on the client; the relay sees ciphertext only.
 */
export interface FileCrypto {
  /** A fresh per-file key, the keyed blob id and the encrypting (and padding) transform. */
  encryptFile(options?: { readonly size?: number }): {
    blobId: string
    key: Uint8Array
    stream: TransformStream<Uint8Array, Uint8Array>
  }
  /** The transform that decrypts (and unpads) a file sealed under `key`. */
  decryptFile(key: Uint8Array): TransformStream<Uint8Array, Uint8Array>
  /** Sign a grant for the relay (`verifyBlobGrant` of `@valv/protocol`). */
  signBlobGrant(fields: {
    readonly op: 'upload' | 'download' | 'delete'
    readonly blobId: string
    readonly size: number
    readonly sessionId: string
  }): Promise<Uint8Array>
}

/** Options of {@link uploadFile}. */
export interface UploadOptions {
  /** Plaintext bytes of a stream, when known: the file is then padded to a PADMÉ length. */
  readonly size?: number
  /** Connection losses survived before giving up (default 20). */
  readonly maxReconnects?: number
}

/** A stored file: keep all of it in the document (the drive's file node), encrypted. */
export interface UploadedFile {
  /** The blob's id on the relay. */
  readonly blobId: string
  /** The file key (with the padding flag); never send it anywhere but into the document. */
  readonly key: Uint8Array
  /** Ciphertext bytes stored on the relay. */
  readonly storedBytes: number
}

// Ciphertext bytes per chunk frame (the relay's default limit) and chunks awaiting acks at once.
const CHUNK = 256 * 1024
const WINDOW = 4

/**
 * Encrypt a file on the client and upload it through the relay, resumably: chunks stay in
 * memory until the relay acknowledges them as durable (at most 1 MiB), and after a lost
 * connection the upload resumes from the bytes the relay stored. Pass a `Uint8Array`, or a
 * stream with `size` if known (so it is padded). Needs the write role.
 *
 * @example
 * ```ts
 * const stored = await uploadFile(provider, session, file.stream(), { size: file.size })
 * const fileId = drive.createFile(file.name)
 * drive.addVersion(fileId, {
 *   blobId: stored.blobId,
 *   size: file.size,
 *   mimeType: file.type || 'application/octet-stream',
 *   fileKey: toBase64Url(stored.key), // the key lives only inside the encrypted drive
 * })
 * ```
 */
export async function uploadFile(
  provider: WebsocketProvider,
  crypto: FileCrypto,
  input: Uint8Array | ReadableStream<Uint8Array>,
  options: UploadOptions = {},
): Promise<UploadedFile> {
  const ch = fileChannel(provider)
  const docId = ch.docId
  const size = input instanceof Uint8Array ? input.length : options.size
  const { blobId, key, stream } = crypto.encryptFile(size === undefined ? {} : { size })
  const plain = input instanceof Uint8Array ? streamOf(input) : input
  const pieces = rechunk(plain.pipeThrough(stream), CHUNK)
  let unacked: { offset: number; data: Uint8Array }[] = []
  let next = 0
  let ended = false
  for (let lost = 0; ; lost++) {
    try {
      const sessionId = await ch.connected()
      const grant = await crypto.signBlobGrant({ op: 'upload', blobId, size: 0, sessionId })
      const stored = await ch.request((ref) => ({
        type: 'blob-begin',
        docId,
        ref,
        blobId,
        size: 0,
        grant,
      }))
      unacked = unacked.filter((c) => c.offset + c.data.length > stored)
      if ((unacked[0]?.offset ?? next) !== stored) {
        throw new WebsocketProviderError('rejected', 'the relay lost acknowledged file bytes')
      }
      const send = (c: { offset: number; data: Uint8Array }) => {
        const p = ch.request((ref) => ({ type: 'blob-chunk', docId, ref, blobId, ...c }))
        p.catch(() => undefined) // awaited in order below; a loss fails them all at once
        return p
      }
      const acks = unacked.map(send)
      for (;;) {
        while (!ended && unacked.length < WINDOW) {
          const r = await pieces.next()
          if (r.done) ended = true
          else {
            const c = { offset: next, data: r.value }
            next += r.value.length
            unacked.push(c)
            acks.push(send(c))
          }
        }
        const ack = acks.shift()
        if (ack === undefined) break
        await ack
        unacked.shift()
      }
      await ch.request((ref) => ({ type: 'blob-commit', docId, ref, blobId, size: next }))
      return { blobId, key, storedBytes: next }
    } catch (e) {
      if (!isConnectionLost(e) || lost >= (options.maxReconnects ?? 20)) throw e
      await ch.reconnected()
    }
  }
}

/**
 * Download and decrypt a file stored by {@link uploadFile}, as a stream of plaintext. The relay
 * streams ciphertext; after a lost connection the download resumes at the byte it stopped.
 * Any current member may download. A tampered or truncated file errors the stream.
 *
 * @example
 * ```ts
 * declare const fileId: string // a file node of the drive
 * const version = drive.latestVersion(fileId)
 * const key = version?.fileKey === undefined ? undefined : fromBase64Url(version.fileKey)
 * if (version !== null && key !== undefined) {
 *   const plaintext = downloadFile(provider, session, { blobId: version.blobId, key })
 *   const content = await new Response(plaintext).blob()
 * }
 * ```
 */
export function downloadFile(
  provider: WebsocketProvider,
  crypto: FileCrypto,
  file: { readonly blobId: string; readonly key: Uint8Array },
  options: { readonly maxReconnects?: number } = {},
): ReadableStream<Uint8Array> {
  const ch = fileChannel(provider)
  const { blobId } = file
  const docId = ch.docId
  const cipher = new ReadableStream<Uint8Array>({
    start(controller) {
      void (async () => {
        let offset = 0
        for (let lost = 0; ; lost++) {
          try {
            const sessionId = await ch.connected()
            const grant = await crypto.signBlobGrant({ op: 'download', blobId, size: 0, sessionId })
            const data = (at: number, bytes: Uint8Array) => {
              if (at !== offset) return // a frame of an abandoned attempt
              offset += bytes.length
              controller.enqueue(bytes)
            }
            const size = await ch.request(
              (ref) => ({ type: 'blob-fetch', docId, ref, blobId, offset, grant }),
              data,
            )
            if (size !== offset) throw new WebsocketProviderError('rejected', 'file truncated')
            controller.close()
            return
          } catch (e) {
            if (!isConnectionLost(e) || lost >= (options.maxReconnects ?? 20)) {
              controller.error(e)
              return
            }
            await ch.reconnected()
          }
        }
      })()
    },
  })
  return cipher.pipeThrough(crypto.decryptFile(file.key))
}

/**
 * Delete a stored file from the relay (needs the write role), e.g. after its drive node was
 * deleted. Idempotent.
 */
export async function deleteFile(
  provider: WebsocketProvider,
  crypto: FileCrypto,
  blobId: string,
): Promise<void> {
  const ch = fileChannel(provider)
  const sessionId = await ch.connected()
  const grant = await crypto.signBlobGrant({ op: 'delete', blobId, size: 0, sessionId })
  await ch.request((ref) => ({ type: 'blob-delete', docId: ch.docId, ref, blobId, grant }))
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      // In slices, so the encryptor never holds more than one slice of a large array.
      for (let at = 0; at < bytes.length; at += CHUNK) c.enqueue(bytes.subarray(at, at + CHUNK))
      c.close()
    },
  })
}

/** Pieces of exactly `size` bytes (the last may be shorter), read lazily from `source`. */
async function* rechunk(source: ReadableStream<Uint8Array>, size: number) {
  let buf = new Uint8Array(0)
  const reader = source.getReader()
  for (;;) {
    const r = await reader.read()
    if (!r.done) {
      const joined = new Uint8Array(buf.length + r.value.length)
      joined.set(buf)
      joined.set(r.value, buf.length)
      buf = joined
    }
    while (buf.length >= size || (r.done && buf.length > 0)) {
      const n = Math.min(size, buf.length)
      yield buf.slice(0, n)
      buf = buf.subarray(n)
    }
    if (r.done) return
  }
}
