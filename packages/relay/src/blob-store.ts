import type { DocumentStore } from '@valv/storage'

// Names of file objects among a document's blobs (`docs/<docId>/blob/<name>`). Blob ids are
// base64url (no '.'), so '.' separates fields unambiguously; offsets are zero-padded so the
// listing, in byte order, is upload order.
//   file.<blobId>.<size>                     committed ciphertext, downloadable
//   upload.<blobId>.<size>.<startedMs>       an upload in progress (size 0 = not declared)
//   part.<blobId>.<offset>.<length>          bytes of an upload not yet committed
const OFFSET_DIGITS = 16
const pad = (n: number) => String(n).padStart(OFFSET_DIGITS, '0')

/** Name of a committed file. */
export const fileName = (id: string, size: number) => `file.${id}.${size}`
/** Name of the marker of an upload in progress. */
export const uploadName = (id: string, size: number, startedMs: number) =>
  `upload.${id}.${size}.${startedMs}`
/** Name of one stored chunk of an upload. */
export const partName = (id: string, offset: number, length: number) =>
  `part.${id}.${pad(offset)}.${length}`

/** A stored chunk of an upload. */
export interface Part {
  readonly name: string
  readonly offset: number
  readonly length: number
}

/** An upload in progress as stored. */
export interface StoredUpload {
  readonly name: string
  readonly size: number
  readonly startedMs: number
  readonly parts: Part[]
}

/** Everything stored about a document's files. */
export interface FileListing {
  /** Committed files: id → size and object name. */
  readonly files: Map<string, { size: number; name: string }>
  /** Uploads in progress (with their parts), and parts without a marker (orphans). */
  readonly uploads: Map<string, StoredUpload>
  readonly orphans: string[]
}

const num = (s: string | undefined) => (s !== undefined && /^\d{1,16}$/.test(s) ? Number(s) : NaN)

/** Read the names of a document's file objects (names only: no content is read). */
export async function listFiles(store: DocumentStore, docId: string): Promise<FileListing> {
  const files = new Map<string, { size: number; name: string }>()
  const uploads = new Map<string, StoredUpload>()
  const parts = new Map<string, Part[]>()
  for await (const name of store.listBlobs(docId)) {
    const [kind, id, a, b] = name.split('.')
    if (id === undefined) continue
    if (kind === 'file' && Number.isSafeInteger(num(a))) files.set(id, { size: num(a), name })
    else if (kind === 'upload' && !Number.isNaN(num(a)) && !Number.isNaN(num(b))) {
      uploads.set(id, { name, size: num(a), startedMs: num(b), parts: [] })
    } else if (kind === 'part' && !Number.isNaN(num(a)) && !Number.isNaN(num(b))) {
      const list = parts.get(id) ?? []
      list.push({ name, offset: num(a), length: num(b) })
      parts.set(id, list)
    }
  }
  const orphans: string[] = []
  for (const [id, list] of parts) {
    const upload = uploads.get(id)
    if (upload === undefined || files.has(id)) orphans.push(...list.map((p) => p.name))
    else upload.parts.push(...list)
  }
  return { files, uploads, orphans }
}

/** Bytes stored contiguously from offset 0 (parts after a gap are ignored and overwritten). */
export function contiguous(parts: readonly Part[]): number {
  let offset = 0
  for (const p of parts) {
    if (p.offset !== offset) break
    offset += p.length
  }
  return offset
}

/** One chunk as an async iterable, for `putBlob`. */
export async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes
}

/** The parts of an upload read back in order, one storage chunk at a time (constant memory). */
export async function* concat(
  store: DocumentStore,
  docId: string,
  parts: readonly Part[],
): AsyncIterable<Uint8Array> {
  for (const p of parts) {
    const stream = await store.getBlob(docId, p.name)
    if (stream === undefined) throw new Error('upload part vanished')
    yield* stream
  }
}

/** Delete objects by name, a few at a time. */
export async function deleteAll(
  store: DocumentStore,
  docId: string,
  names: readonly string[],
): Promise<void> {
  for (let i = 0; i < names.length; i += 8) {
    await Promise.all(names.slice(i, i + 8).map((n) => store.deleteBlob(docId, n)))
  }
}
