import { CryptoError, utf8 } from '@valv/protocol'
import { padFileStream, unpadFileStream } from './file-padding.js'
import { blobId, decryptBlobStream, encryptBlobStream } from './primitives/blob-stream.js'
import { hkdf32 } from './primitives/kdf.js'

/**
 * `DocumentSession.encryptFile`: a fresh per-file key, chunked AEAD, a storage id keyed by the
 * document's epoch-0 roster key (`roster`), and PADMÉ padding when the size is known.
 */
export function encryptDocumentFile(
  roster: Uint8Array | undefined,
  docId: string,
  options: { readonly size?: number },
): { blobId: string; key: Uint8Array; stream: TransformStream<Uint8Array, Uint8Array> } {
  if (roster === undefined) throw new CryptoError('unknown-epoch', 'no document keys yet')
  const { key, stream: encrypt } = encryptBlobStream()
  const idKey = hkdf32(roster, utf8(docId), 'valv/v1/blob-id-key')
  const id = blobId(idKey, key)
  if (options.size === undefined) return { blobId: id, key, stream: encrypt }
  const pad = padFileStream(options.size)
  // Tag the key so decryptFile knows to strip the padding (the key is never stored alone).
  return { blobId: id, key: withPadFlag(key), stream: chain(pad, encrypt) }
}

/** `DocumentSession.decryptFile`: undo {@link encryptDocumentFile} with the file's key. */
export function decryptDocumentFile(key: Uint8Array): TransformStream<Uint8Array, Uint8Array> {
  if (key.length === 33 && key[32] === 1) {
    return chain(decryptBlobStream(key.subarray(0, 32)), unpadFileStream())
  }
  return decryptBlobStream(key)
}

/** A file key that says its plaintext was padded: the 32-byte key and a flag byte. */
function withPadFlag(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(33)
  out.set(key)
  out[32] = 1
  return out
}

/** Two transforms as one. */
function chain(
  a: TransformStream<Uint8Array, Uint8Array>,
  b: TransformStream<Uint8Array, Uint8Array>,
): TransformStream<Uint8Array, Uint8Array> {
  return { writable: a.writable, readable: a.readable.pipeThrough(b) } as TransformStream<
    Uint8Array,
    Uint8Array
  >
}
