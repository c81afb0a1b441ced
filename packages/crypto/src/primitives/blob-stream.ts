import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { CryptoError, toBase64Url, utf8 } from '@valv/protocol'
import { ByteQueue } from './byte-queue.js'
import { randomBytes } from './bytes.js'
import { hmac256 } from './kdf.js'

/** Default plaintext chunk size: 64 KiB. */
export const BLOB_CHUNK_SIZE = 65536
/** Bytes of the blob header: `version(1) || chunkSize u32 BE (4) || noncePrefix(16)`. */
export const BLOB_HEADER_LENGTH = 21
/** Bytes each chunk adds (Poly1305 tag). */
export const BLOB_TAG_LENGTH = 16

const VERSION = 1
const PREFIX = 16
const MAX_CHUNK_SIZE = 2 ** 24
const MAX_INDEX = 0xffff_ffff
const BLOB_ID_DOMAIN = utf8('valv/v1/blob-id')

/** Options of `encryptBlobStream` and `encryptBlob`. */
export interface BlobEncryptOptions {
  /** A 32-byte key; default: a fresh random key per file (the point of per-file keys). */
  readonly key?: Uint8Array
  /** Plaintext bytes per chunk, 1 … 16 MiB; default `BLOB_CHUNK_SIZE`. */
  readonly chunkSize?: number
  /** The 16-byte nonce prefix; default random. Only for test vectors. */
  readonly prefix?: Uint8Array
}

/** Output of `encryptBlobStream`: the file key and the transform to pipe the file through. */
export interface BlobEncryptStream {
  /** The file key; store it (sealed) next to the blob id, never with the blob. */
  readonly key: Uint8Array
  /** Plaintext in, `header || chunk_0 || … || chunk_n` out. */
  readonly stream: TransformStream<Uint8Array, Uint8Array>
}

/** Output of `encryptBlob`. */
export interface EncryptedBlob {
  /** The file key; store it (sealed) next to the blob id, never with the blob. */
  readonly key: Uint8Array
  /** `header || chunk_0 || … || chunk_n`, `encryptedBlobSize` bytes. */
  readonly ciphertext: Uint8Array
}

function checkKey(key: Uint8Array): void {
  if (key.length !== 32) throw new CryptoError('invalid-key', 'blob keys are 32 bytes')
}

function checkChunkSize(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_CHUNK_SIZE) {
    throw new CryptoError('malformed', 'blob chunk size must be 1 byte … 16 MiB')
  }
}

/**
 * The STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015) over XChaCha20-Poly1305:
 * chunk `i` is sealed under nonce `prefix(16) || i u32 BE (4) || final(1) || 0(3)` with the
 * header as associated data. Binding the index rejects reordering, swapping and duplication;
 * binding the final flag rejects truncation at a chunk boundary and appending after the end.
 */
class ChunkCipher {
  private index = 0
  private readonly nonce = new Uint8Array(24)

  constructor(
    private readonly key: Uint8Array,
    readonly header: Uint8Array,
  ) {
    this.nonce.set(header.subarray(5, 5 + PREFIX))
  }

  private nonceFor(index: number, final: boolean): Uint8Array {
    const n = this.nonce.slice()
    new DataView(n.buffer).setUint32(PREFIX, index)
    n[PREFIX + 4] = final ? 1 : 0
    return n
  }

  seal(chunk: Uint8Array, final: boolean): Uint8Array {
    if (this.index > MAX_INDEX) throw new CryptoError('too-large', 'blob has too many chunks')
    const out = xchacha20poly1305(this.key, this.nonceFor(this.index, final), this.header).encrypt(
      chunk,
    )
    this.index++
    return out
  }

  open(chunk: Uint8Array, final: boolean): Uint8Array {
    if (this.index > MAX_INDEX) throw new CryptoError('too-large', 'blob has too many chunks')
    const aead = (f: boolean) =>
      xchacha20poly1305(this.key, this.nonceFor(this.index, f), this.header)
    let out: Uint8Array
    try {
      out = aead(final).decrypt(chunk)
    } catch (cause) {
      if (final && opensAsNonFinal(() => aead(false).decrypt(chunk))) {
        throw new CryptoError('truncated', 'the encrypted blob ends before its final chunk')
      }
      throw new CryptoError('decrypt-failed', `blob chunk ${this.index} does not open`, { cause })
    }
    this.index++
    return out
  }
}

function opensAsNonFinal(attempt: () => unknown): boolean {
  try {
    attempt()
    return true
  } catch {
    return false
  }
}

function makeHeader(chunkSize: number, prefix: Uint8Array): Uint8Array {
  if (prefix.length !== PREFIX) throw new CryptoError('malformed', 'nonce prefix is 16 bytes')
  const header = new Uint8Array(BLOB_HEADER_LENGTH)
  header[0] = VERSION
  new DataView(header.buffer).setUint32(1, chunkSize)
  header.set(prefix, 5)
  return header
}

function parseHeader(header: Uint8Array): number {
  if (header[0] !== VERSION) throw new CryptoError('unsupported-version', 'unknown blob version')
  const chunkSize = new DataView(header.buffer, header.byteOffset, 5).getUint32(1)
  checkChunkSize(chunkSize)
  return chunkSize
}

function startEncryption(opts: BlobEncryptOptions) {
  const key = opts.key ?? randomBytes(32)
  checkKey(key)
  const chunkSize = opts.chunkSize ?? BLOB_CHUNK_SIZE
  checkChunkSize(chunkSize)
  const header = makeHeader(chunkSize, opts.prefix ?? randomBytes(PREFIX))
  return { key, chunkSize, cipher: new ChunkCipher(key, header) }
}

/**
 * A transform that encrypts a file of any size in constant memory (one chunk buffered).
 * Output: `header(21) || chunk_0 || … || chunk_n`, each chunk its plaintext (64 KiB; the last
 * 0 … 64 KiB) plus a 16-byte tag. Input pieces may have any size.
 *
 * @example
 * ```ts
 * const { key, stream } = encryptBlobStream()
 * await file.stream().pipeThrough(stream).pipeTo(upload('report.pdf'))
 * ```
 */
export function encryptBlobStream(opts: BlobEncryptOptions = {}): BlobEncryptStream {
  const { key, chunkSize, cipher } = startEncryption(opts)
  const queue = new ByteQueue()
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      controller.enqueue(cipher.header.slice())
    },
    transform(piece, controller) {
      queue.push(piece)
      // Keep one full chunk back: only the end of input tells whether it is the final one.
      while (queue.length > chunkSize) controller.enqueue(cipher.seal(queue.take(chunkSize), false))
    },
    flush(controller) {
      controller.enqueue(cipher.seal(queue.take(queue.length), true))
    },
  })
  return { key, stream }
}

/**
 * A transform that decrypts `encryptBlobStream` output, in pieces of any size. Each
 * chunk is authenticated before it is released; the stream errors with `decrypt-failed` on any
 * changed, reordered, swapped, duplicated or appended chunk, `truncated` when the input ends
 * before the final chunk, `malformed`/`unsupported-version` on a bad header. Output released
 * before an error is authentic but incomplete: treat the file as valid only when the stream
 * closes without error.
 */
export function decryptBlobStream(key: Uint8Array): TransformStream<Uint8Array, Uint8Array> {
  checkKey(key)
  const queue = new ByteQueue()
  let cipher: ChunkCipher | undefined
  let sealedChunk = 0
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(piece, controller) {
      queue.push(piece)
      if (cipher === undefined) {
        if (queue.length < BLOB_HEADER_LENGTH) return
        const header = queue.take(BLOB_HEADER_LENGTH)
        sealedChunk = parseHeader(header) + BLOB_TAG_LENGTH
        cipher = new ChunkCipher(key, header)
      }
      while (queue.length > sealedChunk) {
        controller.enqueue(cipher.open(queue.take(sealedChunk), false))
      }
    },
    flush(controller) {
      if (cipher === undefined || queue.length < BLOB_TAG_LENGTH) {
        throw new CryptoError('truncated', 'the encrypted blob ends before its final chunk')
      }
      controller.enqueue(cipher.open(queue.take(queue.length), true))
    },
  })
}

/** Encrypt a blob held in memory (same format as `encryptBlobStream`). */
export function encryptBlob(bytes: Uint8Array, opts: BlobEncryptOptions = {}): EncryptedBlob {
  const { key, chunkSize, cipher } = startEncryption(opts)
  const out = new Uint8Array(encryptedBlobSize(bytes.length, chunkSize))
  out.set(cipher.header)
  let at = BLOB_HEADER_LENGTH
  let pos = 0
  do {
    const end = Math.min(pos + chunkSize, bytes.length)
    const sealed = cipher.seal(bytes.subarray(pos, end), end === bytes.length)
    out.set(sealed, at)
    at += sealed.length
    pos = end
  } while (pos < bytes.length)
  return { key, ciphertext: out }
}

/** Decrypt a blob held in memory; same errors as `decryptBlobStream`. */
export function decryptBlob(key: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  checkKey(key)
  if (ciphertext.length < BLOB_HEADER_LENGTH + BLOB_TAG_LENGTH) {
    throw new CryptoError('truncated', 'the encrypted blob ends before its final chunk')
  }
  const header = ciphertext.subarray(0, BLOB_HEADER_LENGTH)
  const sealedChunk = parseHeader(header) + BLOB_TAG_LENGTH
  const cipher = new ChunkCipher(key, header)
  const parts: Uint8Array[] = []
  let pos = BLOB_HEADER_LENGTH
  while (ciphertext.length - pos > sealedChunk) {
    parts.push(cipher.open(ciphertext.subarray(pos, pos + sealedChunk), false))
    pos += sealedChunk
  }
  if (ciphertext.length - pos < BLOB_TAG_LENGTH) {
    throw new CryptoError('truncated', 'the encrypted blob ends before its final chunk')
  }
  parts.push(cipher.open(ciphertext.subarray(pos), true))
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Ciphertext size of a `plainSize`-byte blob: header + plaintext + 16 bytes per chunk. */
export function encryptedBlobSize(plainSize: number, chunkSize = BLOB_CHUNK_SIZE): number {
  checkChunkSize(chunkSize)
  const chunks = Math.max(1, Math.ceil(plainSize / chunkSize))
  return BLOB_HEADER_LENGTH + plainSize + chunks * BLOB_TAG_LENGTH
}

/**
 * The storage id of a blob: base64url (43 chars) of HMAC-SHA256 keyed by `idKey` (the
 * document's blob-id key, which the relay never holds) over `valv/v1/blob-id ||
 * plaintextHashOrKey`. Because it is keyed, the relay cannot confirm a guess of a file's content
 * by hashing it. Pass the plaintext's SHA-256 to deduplicate identical files within a document,
 * or the per-file key so even identical files get unlinkable ids.
 */
export function blobId(idKey: Uint8Array, plaintextHashOrKey: Uint8Array): string {
  if (idKey.length !== 32) throw new CryptoError('invalid-key', 'blob-id keys are 32 bytes')
  return toBase64Url(hmac256(idKey, BLOB_ID_DOMAIN, plaintextHashOrKey))
}
