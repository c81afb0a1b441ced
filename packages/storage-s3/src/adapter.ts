import { Readable } from 'node:stream'
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import {
  assertValidKey,
  type KeyRange,
  type StorageAdapter,
  type StorageEntry,
  StorageError,
  type StorageKey,
} from '@valv/storage'
import { isNotFound, toStorageError } from './errors.js'
import {
  BLOB_MARK,
  blobObject,
  blobVersion,
  folderOf,
  nextVersion,
  VALUE_MARK,
  valueObject,
} from './keys.js'
import { type ResolvedS3Options, resolveS3Options, type S3StorageOptions } from './options.js'
import { segmentOrder } from './order.js'

const DELETE_BATCH = 1000
const FETCH_WINDOW = 16

/**
 * {@link StorageAdapter} on an S3-compatible object store (AWS S3, Ceph RGW, MinIO, …).
 *
 * Every value is one object (see `keys.ts` for the naming), so there is never a
 * read-modify-write: `put` is one PutObject. Blobs go through multipart upload in constant
 * memory to a new write-once object `key!b!<version>`; readers take the newest version, and
 * the writer deletes older versions once its upload completed, so two concurrent writers
 * never tear a blob: one whole upload wins, and a write started after another finished wins. S3 acknowledges a write
 * only once it is durably stored, which gives "resolved = durable". `deletePrefix` lists and
 * deletes in batches of 1000 and aborts unfinished multipart uploads below the prefix; it is
 * not atomic, but repeating it after a crash finishes the job.
 *
 * @example
 * ```ts
 * const adapter = new S3StorageAdapter({
 *   endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', bucket: 'valv', forcePathStyle: true,
 *   credentials: { accessKeyId: 'minio', secretAccessKey: 'minio-secret' },
 * })
 * const store = new DocumentStore(adapter)
 * ```
 */
export class S3StorageAdapter implements StorageAdapter {
  readonly #client: S3Client
  readonly #ownsClient: boolean
  readonly #o: ResolvedS3Options
  #closed = false

  /** Create the adapter; nothing is sent until the first call. */
  constructor(options: S3StorageOptions) {
    this.#o = resolveS3Options(options)
    if (options.client) {
      this.#client = options.client
      this.#ownsClient = false
    } else {
      this.#client = new S3Client({
        region: options.region ?? 'us-east-1',
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        ...(options.forcePathStyle === undefined ? {} : { forcePathStyle: options.forcePathStyle }),
        ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
        // Checksums only where S3 requires them: several S3-compatible servers reject the
        // newer default trailing-checksum uploads.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        ...options.clientConfig,
      })
      this.#ownsClient = true
    }
  }

  /** Check that the bucket exists and is reachable; throws `missing-backend` otherwise. */
  async check(): Promise<void> {
    await this.#call('check', async () => {
      try {
        await this.#client.send(new HeadBucketCommand({ Bucket: this.#o.bucket }))
      } catch (error) {
        // HEAD responses have no body, so a missing bucket is just "NotFound".
        if (isNotFound(error))
          throw new StorageError('missing-backend', `bucket ${this.#o.bucket} does not exist`)
        throw error
      }
    })
  }

  async get(key: StorageKey): Promise<Uint8Array | undefined> {
    assertValidKey(key)
    return this.#call('get', async () => {
      try {
        const out = await this.#client.send(
          new GetObjectCommand({ Bucket: this.#o.bucket, Key: valueObject(this.#o.prefix, key) }),
        )
        return out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0)
      } catch (error) {
        if (isNotFound(error)) return undefined
        throw error
      }
    })
  }

  async put(key: StorageKey, value: Uint8Array): Promise<void> {
    assertValidKey(key)
    if (!(value instanceof Uint8Array)) throw new TypeError('value must be a Uint8Array')
    await this.#call('put', () =>
      this.#client.send(
        new PutObjectCommand({
          Bucket: this.#o.bucket,
          Key: valueObject(this.#o.prefix, key),
          Body: value,
          ContentLength: value.byteLength,
          ContentType: 'application/octet-stream',
        }),
      ),
    )
  }

  async delete(key: StorageKey): Promise<void> {
    assertValidKey(key)
    await this.#deleteObjects('delete', [
      valueObject(this.#o.prefix, key),
      ...(await this.#blobVersions('delete', key)),
    ])
  }

  async deletePrefix(prefix: StorageKey): Promise<void> {
    assertValidKey(prefix, true)
    const o = this.#o
    const exact =
      prefix.length === 0
        ? []
        : [valueObject(o.prefix, prefix), ...(await this.#blobVersions('deletePrefix', prefix))]
    await this.#abortUploads(prefix)
    const folder = folderOf(o.prefix, prefix)
    let batch = exact
    for await (const page of this.#pages('deletePrefix', folder, false, undefined)) {
      for (const item of page.Contents ?? []) {
        if (item.Key === undefined) continue
        batch.push(item.Key)
        if (batch.length === DELETE_BATCH) {
          await this.#deleteObjects('deletePrefix', batch)
          batch = []
        }
      }
    }
    if (batch.length > 0) await this.#deleteObjects('deletePrefix', batch)
  }

  async *list(range: KeyRange): AsyncIterable<StorageEntry> {
    assertValidKey(range.prefix, true)
    if (range.start !== undefined) assertValidKey([range.start])
    if (range.end !== undefined) assertValidKey([range.end])
    let remaining = range.limit ?? Number.POSITIVE_INFINITY
    if (remaining <= 0) return
    const folder = folderOf(this.#o.prefix, range.prefix)
    // `start!` sorts just below `start!v`, and below every longer sibling.
    const startAfter = range.start === undefined ? undefined : `${folder}${range.start}!`
    for await (const page of this.#pages('list', folder, true, startAfter)) {
      const segments: string[] = []
      let pastEnd = false
      for (const item of page.Contents ?? []) {
        const name = item.Key?.slice(folder.length)
        if (name === undefined || !name.endsWith(VALUE_MARK)) continue
        const segment = name.slice(0, -VALUE_MARK.length)
        if (range.end !== undefined && segment >= range.end) {
          pastEnd = true
          break
        }
        segments.push(segment)
      }
      // S3 lists names only: fetch the values, a window at a time, in order.
      for (let i = 0; i < segments.length; i += FETCH_WINDOW) {
        const window = segments.slice(i, Math.min(i + FETCH_WINDOW, i + remaining))
        const values = await Promise.all(window.map((s) => this.get([...range.prefix, s])))
        for (const [j, value] of values.entries()) {
          // Deleted between listing and reading: it is simply not there any more.
          if (value === undefined) continue
          yield { key: [...range.prefix, window[j]!], value }
          if (--remaining <= 0) return
        }
      }
      if (pastEnd) return
    }
  }

  async *listChildren(prefix: StorageKey): AsyncIterable<string> {
    assertValidKey(prefix, true)
    const folder = folderOf(this.#o.prefix, prefix)
    const pages = this.#pages('listChildren', folder, true, undefined)
    async function* names(): AsyncGenerator<string> {
      for await (const page of pages) {
        // Contents and CommonPrefixes are each sorted; merge them into one S3-ordered stream.
        const items = [
          ...(page.Contents ?? []).map((c) => c.Key ?? ''),
          ...(page.CommonPrefixes ?? []).map((c) => c.Prefix ?? ''),
        ]
          .map((key) => key.slice(folder.length))
          .filter(
            (name) =>
              name.endsWith('/') ||
              name.endsWith(VALUE_MARK) ||
              name.endsWith(BLOB_MARK) || // written before blobs were versioned
              name.includes(`${BLOB_MARK}!`),
          )
          .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
        yield* items
      }
    }
    yield* segmentOrder(names())
  }

  async putStream(key: StorageKey, source: AsyncIterable<Uint8Array>): Promise<number> {
    assertValidKey(key)
    const older = await this.#blobVersions('putStream', key)
    const object = blobVersion(this.#o.prefix, key, nextVersion(older.at(-1)))
    let size = 0
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const piece of source) {
        size += piece.byteLength
        yield piece
      }
    }
    const upload = new Upload({
      client: this.#client,
      partSize: this.#o.partSize,
      queueSize: this.#o.queueSize,
      // The SDK's own abort replaces the original error with the abort's when the server
      // refuses it; abort here instead and always report why the upload failed.
      leavePartsOnError: true,
      params: {
        Bucket: this.#o.bucket,
        Key: object,
        Body: Readable.from(counted(), { objectMode: false, highWaterMark: 1 << 16 }),
        ContentType: 'application/octet-stream',
      },
    })
    try {
      await this.#call('putStream', () => upload.done())
    } catch (error) {
      await this.#abortUpload(object, upload)
      throw error
    }
    // The new version is durable; now drop every version but the newest (ours, or a
    // concurrent writer's). If this fails the leftovers stay invisible, and the next
    // putStream, delete or deletePrefix of the key removes them.
    try {
      const versions = await this.#blobVersions('putStream', key)
      if (versions.length > 1) await this.#deleteObjects('putStream', versions.slice(0, -1))
    } catch {
      // Best effort, see above.
    }
    return size
  }

  async getStream(key: StorageKey): Promise<AsyncIterable<Uint8Array> | undefined> {
    assertValidKey(key)
    const body = await this.#call('getStream', async () => {
      // A newer writer deletes older versions: if the newest one vanished between listing and
      // reading, list again (the loop ends: a version is only deleted when a newer one exists).
      for (let attempt = 0; attempt < 5; attempt++) {
        const newest = (await this.#blobVersions('getStream', key)).at(-1)
        if (newest === undefined) return undefined
        try {
          const out = await this.#client.send(
            new GetObjectCommand({ Bucket: this.#o.bucket, Key: newest }),
          )
          return (out.Body ?? []) as unknown as AsyncIterable<Uint8Array>
        } catch (error) {
          if (!isNotFound(error)) throw error
        }
      }
      return undefined
    })
    if (body === undefined) return undefined
    // One GET is one version of the object, so a concurrent replacement never mixes in.
    return (async function* () {
      try {
        for await (const chunk of body) {
          yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        }
      } catch (error) {
        throw toStorageError(error, 'getStream')
      } finally {
        // Stopping early must release the socket back to the agent.
        ;(body as { destroy?: () => void }).destroy?.()
      }
    })()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#ownsClient) this.#client.destroy()
  }

  // Best effort: parts left by a server that cannot abort are erased by `deletePrefix`
  // (ListMultipartUploads) or a bucket lifecycle rule, and never become visible objects.
  async #abortUpload(key: string, upload: Upload): Promise<void> {
    const uploadId = (upload as unknown as { uploadId?: string }).uploadId
    if (uploadId === undefined) return
    await this.#client
      .send(
        new AbortMultipartUploadCommand({ Bucket: this.#o.bucket, Key: key, UploadId: uploadId }),
      )
      .catch(() => undefined)
  }

  /** Object names of every stored version of the blob at `key`, oldest first. */
  async #blobVersions(what: string, key: StorageKey): Promise<string[]> {
    const names: string[] = []
    for await (const page of this.#pages(what, blobObject(this.#o.prefix, key), false, undefined)) {
      for (const item of page.Contents ?? []) if (item.Key !== undefined) names.push(item.Key)
    }
    return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  }

  async #call<T>(what: string, run: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StorageError('closed', 'the S3 adapter was closed')
    try {
      return await run()
    } catch (error) {
      throw toStorageError(error, what)
    }
  }

  async *#pages(
    what: string,
    folder: string,
    delimited: boolean,
    startAfter: string | undefined,
  ): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined
    do {
      const page = await this.#call(what, () =>
        this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#o.bucket,
            Prefix: folder,
            ...(delimited ? { Delimiter: '/' } : {}),
            ...(token === undefined && startAfter !== undefined ? { StartAfter: startAfter } : {}),
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        ),
      )
      yield page
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token !== undefined)
  }

  async #deleteObjects(what: string, keys: string[]): Promise<void> {
    const out = await this.#call(what, () =>
      this.#client.send(
        new DeleteObjectsCommand({
          Bucket: this.#o.bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      ),
    )
    const failed = out.Errors?.[0]
    if (failed) {
      throw toStorageError(
        Object.assign(new Error(failed.Message ?? 'delete failed'), {
          name: failed.Code ?? 'DeleteFailed',
        }),
        what,
      )
    }
  }

  // Parts of an interrupted multipart upload are invisible to listings but still stored bytes;
  // erasing a document must remove them too. Servers without the API (s3rver) are skipped.
  async #abortUploads(prefix: StorageKey): Promise<void> {
    const o = this.#o
    const uploadPrefix = prefix.length === 0 ? o.prefix : `${o.prefix}${prefix.join('/')}`
    let keyMarker: string | undefined
    let uploadIdMarker: string | undefined
    for (;;) {
      let page: ListMultipartUploadsCommandOutput
      try {
        page = await this.#call('deletePrefix', () =>
          this.#client.send(
            new ListMultipartUploadsCommand({
              Bucket: o.bucket,
              Prefix: uploadPrefix,
              ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
              ...(uploadIdMarker === undefined ? {} : { UploadIdMarker: uploadIdMarker }),
            }),
          ),
        )
      } catch (error) {
        const cause = error instanceof StorageError ? error.cause : error
        if ((cause as { name?: string } | undefined)?.name === 'NotImplemented') return
        throw error
      }
      for (const upload of page.Uploads ?? []) {
        const name = upload.Key?.slice(uploadPrefix.length) ?? ''
        // Same key or below it, not a sibling that merely shares the text prefix.
        if (prefix.length > 0 && !(name.startsWith(BLOB_MARK) || name.startsWith('/'))) continue
        await this.#call('deletePrefix', () =>
          this.#client.send(
            new AbortMultipartUploadCommand({
              Bucket: o.bucket,
              Key: upload.Key,
              UploadId: upload.UploadId,
            }),
          ),
        )
      }
      if (!page.IsTruncated) return
      keyMarker = page.NextKeyMarker
      uploadIdMarker = page.NextUploadIdMarker
    }
  }
}
