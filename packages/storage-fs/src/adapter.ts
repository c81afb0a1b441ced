import { randomBytes } from 'node:crypto'
import type { Dirent } from 'node:fs'
import { mkdir, open, readdir, readFile, rename, rm, rmdir, unlink } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import {
  assertValidKey,
  type KeyRange,
  type StorageAdapter,
  type StorageEntry,
  StorageError,
  type StorageKey,
} from '@valv/storage'
import { alive, syncDir } from './durable.js'
import { errno, toStorageError } from './errors.js'
import {
  blobPath,
  dirFor,
  dirOf,
  segmentOf,
  TMP_PREFIX,
  TRASH_PREFIX,
  VALUE_SUFFIX,
  valuePath,
} from './layout.js'

/** Options of {@link FsStorageAdapter}. */
export interface FsStorageOptions {
  /** The root directory. Created (with parents) unless `create` is false. */
  readonly directory: string
  /** Create the root if it does not exist (default true); false makes a missing root an error. */
  readonly create?: boolean
  /**
   * fsync files and directories before resolving (default true). Turning it off trades the
   * "resolved = durable" promise for speed; only for caches and tests.
   */
  readonly fsync?: boolean
  /** Read size of `getStream` chunks in bytes (default 1 MiB). */
  readonly readChunkBytes?: number
}

const RETRIES = 5
const READ_AHEAD = 16

/**
 * A `StorageAdapter` on a local filesystem (Node), one file per value or blob.
 *
 * Every write goes to a temporary file in the root, is fsynced, renamed into place and the
 * directory fsynced: readers see the old or the new file, never a torn one, and a resolved
 * write survives `kill -9` and power loss. Deletions remove empty directories up to the root.
 * `deletePrefix` first renames the subtree away (atomic), then removes it. On first use the
 * adapter removes temporary files and trash of processes that are no longer alive, so a crash
 * leaves nothing behind after the next start.
 *
 * Use one root per filesystem: rename is atomic only within one filesystem.
 *
 * @example
 * ```ts
 * import { DocumentStore } from '@valv/storage'
 * import { FsStorageAdapter } from '@valv/storage-fs'
 * const store = new DocumentStore(new FsStorageAdapter({ directory: '/var/lib/valv' }))
 * ```
 */
export class FsStorageAdapter implements StorageAdapter {
  readonly #root: string
  readonly #options: FsStorageOptions
  #ready: Promise<void> | undefined
  #closed = false

  /** An adapter on `options.directory`; nothing touches the disk before the first call. */
  constructor(options: FsStorageOptions) {
    this.#options = options
    this.#root = options.directory
  }

  async get(key: StorageKey): Promise<Uint8Array | undefined> {
    await this.#begin(key)
    try {
      return new Uint8Array(await readFile(valuePath(this.#root, key)))
    } catch (error) {
      if (errno(error) === 'ENOENT') return undefined
      throw toStorageError(error, 'get')
    }
  }

  async put(key: StorageKey, value: Uint8Array): Promise<void> {
    await this.#begin(key)
    await this.#writeAtomic(valuePath(this.#root, key), async (handle) => {
      await handle.writeFile(value)
      return value.byteLength
    })
  }

  async delete(key: StorageKey): Promise<void> {
    await this.#begin(key)
    try {
      const a = await removeFile(valuePath(this.#root, key))
      const b = await removeFile(blobPath(this.#root, key))
      if (a || b) {
        await this.#sync(dirOf(this.#root, key))
        await this.#prune(dirOf(this.#root, key))
      }
    } catch (error) {
      throw toStorageError(error, 'delete')
    }
  }

  async *list(range: KeyRange): AsyncIterable<StorageEntry> {
    await this.#begin(range.prefix, true)
    const names: string[] = []
    for (const entry of await this.#readdir(dirFor(this.#root, range.prefix))) {
      if (!entry.isFile() || !entry.name.endsWith(VALUE_SUFFIX)) continue
      const segment = segmentOf(entry.name, false)
      if (segment === undefined) continue
      if (range.start !== undefined && segment < range.start) continue
      if (range.end !== undefined && segment >= range.end) continue
      names.push(segment)
    }
    names.sort(byteOrder)
    const limit = range.limit ?? Number.POSITIVE_INFINITY
    if (limit <= 0) return
    // Read ahead: one file read costs a thread-pool round trip, so keep several in flight and
    // yield in order. A file deleted since the directory was read is skipped.
    const read = async (segment: string): Promise<StorageEntry | undefined> => {
      const key = [...range.prefix, segment]
      try {
        return { key, value: new Uint8Array(await readFile(valuePath(this.#root, key))) }
      } catch (error) {
        if (errno(error) === 'ENOENT') return undefined
        throw toStorageError(error, 'list')
      }
    }
    const pending: Promise<StorageEntry | undefined>[] = []
    let next = 0
    const fill = () => {
      const window = Math.min(READ_AHEAD, limit)
      while (pending.length < window && next < names.length) {
        const p = read(names[next++]!)
        p.catch(() => undefined) // surfaced when awaited below, never unhandled
        pending.push(p)
      }
    }
    fill()
    let emitted = 0
    while (pending.length > 0) {
      const entry = await pending.shift()!
      fill()
      if (!entry) continue
      yield entry
      if (++emitted >= limit) return
      if (this.#closed) throw new StorageError('closed', 'the storage adapter is closed')
    }
  }

  async *listChildren(prefix: StorageKey): AsyncIterable<string> {
    await this.#begin(prefix, true)
    const children = new Set<string>()
    for (const entry of await this.#readdir(dirFor(this.#root, prefix))) {
      const segment = segmentOf(entry.name, entry.isDirectory())
      if (segment !== undefined) children.add(segment)
    }
    yield* [...children].sort(byteOrder)
  }

  async deletePrefix(prefix: StorageKey): Promise<void> {
    await this.#begin(prefix, true)
    try {
      if (prefix.length === 0) {
        // Names with '@' are temp files and trash of in-flight operations, not keys.
        for (const entry of await this.#readdir(this.#root)) {
          if (entry.name.startsWith('@')) continue
          await this.#trash(join(this.#root, entry.name), entry.isDirectory())
        }
        await this.#sync(this.#root)
        return
      }
      const parent = dirOf(this.#root, prefix)
      const removed = [
        await this.#trash(dirFor(this.#root, prefix), true),
        await removeFile(valuePath(this.#root, prefix)),
        await removeFile(blobPath(this.#root, prefix)),
      ]
      if (removed.some(Boolean)) {
        await this.#sync(parent)
        await this.#prune(parent)
      }
    } catch (error) {
      throw toStorageError(error, 'deletePrefix')
    }
  }

  async putStream(key: StorageKey, source: AsyncIterable<Uint8Array>): Promise<number> {
    await this.#begin(key)
    return this.#writeAtomic(blobPath(this.#root, key), async (handle) => {
      let total = 0
      // Awaiting each write is the backpressure: the source is pulled only as fast as the disk
      // takes the bytes, so memory stays at one chunk.
      for await (const part of source) {
        let offset = 0
        while (offset < part.byteLength) {
          const { bytesWritten } = await handle.write(part, offset, part.byteLength - offset)
          offset += bytesWritten
        }
        total += part.byteLength
      }
      return total
    })
  }

  async getStream(key: StorageKey): Promise<AsyncIterable<Uint8Array> | undefined> {
    await this.#begin(key)
    let handle: Awaited<ReturnType<typeof open>>
    try {
      // Opened now: a later replace or delete does not affect this reader (same inode).
      handle = await open(blobPath(this.#root, key), 'r')
    } catch (error) {
      if (errno(error) === 'ENOENT') return undefined
      throw toStorageError(error, 'getStream')
    }
    const size = this.#options.readChunkBytes ?? 1 << 20
    return (async function* () {
      try {
        // Small blobs get small buffers: a 1 MiB buffer per 4 KiB blob is garbage to collect.
        let left = (await handle.stat()).size
        for (;;) {
          const buffer = new Uint8Array(Math.max(1, Math.min(size, left)))
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, null)
          if (bytesRead === 0) return
          left = Math.max(0, left - bytesRead)
          yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead)
        }
      } catch (error) {
        throw toStorageError(error, 'getStream')
      } finally {
        await handle.close()
      }
    })()
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  /** Check state and key, and run first-use setup and recovery once. */
  async #begin(key: StorageKey, allowEmpty = false): Promise<void> {
    if (this.#closed) throw new StorageError('closed', 'the storage adapter is closed')
    assertValidKey(key, allowEmpty)
    this.#ready ??= this.#init()
    await this.#ready
    if (this.#closed) throw new StorageError('closed', 'the storage adapter is closed')
  }

  async #init(): Promise<void> {
    try {
      if (this.#options.create === false) {
        await readdir(this.#root)
      } else {
        const created = await mkdir(this.#root, { recursive: true })
        if (created) await this.#syncCreated(created, this.#root)
      }
    } catch (error) {
      const code = errno(error)
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM') {
        throw new StorageError('missing-backend', `storage directory is missing or unusable`, {
          cause: error,
        })
      }
      throw toStorageError(error, 'open')
    }
    // Recovery: temp files and trash of dead processes are leftovers of a crash.
    let swept = false
    for (const entry of await readdir(this.#root, { withFileTypes: true })) {
      const owner = ownerPid(entry.name)
      if (owner === undefined || alive(owner)) continue
      await rm(join(this.#root, entry.name), { recursive: true, force: true })
      swept = true
    }
    if (swept) await this.#sync(this.#root)
  }

  /**
   * Write a new file through a temp file: write, fsync, rename over `target`, fsync the
   * directory. A failure at any step removes the temp file and leaves `target` as it was.
   */
  async #writeAtomic(
    target: string,
    write: (handle: Awaited<ReturnType<typeof open>>) => Promise<number>,
  ): Promise<number> {
    const temp = join(this.#root, `${TMP_PREFIX}${process.pid}-${randomBytes(8).toString('hex')}`)
    let handle: Awaited<ReturnType<typeof open>> | undefined
    try {
      handle = await open(temp, 'wx')
      const total = await write(handle)
      if (this.#options.fsync !== false) await handle.sync()
      await handle.close()
      handle = undefined
      if (this.#closed) throw new StorageError('closed', 'the storage adapter is closed')
      await this.#renameInto(temp, target)
      return total
    } catch (error) {
      await handle?.close().catch(() => undefined)
      await unlink(temp).catch(() => undefined)
      throw toStorageError(error, 'write')
    }
  }

  /** Rename into a directory that a concurrent delete may be pruning: retry on ENOENT. */
  async #renameInto(temp: string, target: string): Promise<void> {
    const dir = dirname(target)
    for (let attempt = 0; ; attempt++) {
      const created = await mkdir(dir, { recursive: true })
      if (created) await this.#syncCreated(created, dir)
      try {
        await rename(temp, target)
        break
      } catch (error) {
        if (errno(error) !== 'ENOENT' || attempt >= RETRIES) throw error
      }
    }
    await this.#sync(dir)
    // The temp file's removal from the root is durable on the next root sync; a stale entry
    // there after a crash would be a dangling name the recovery sweep removes.
  }

  /** Move a file or subtree out of sight atomically, then remove it. Returns whether it existed. */
  async #trash(path: string, isDirectory: boolean): Promise<boolean> {
    if (!isDirectory) return removeFile(path)
    const trash = join(
      this.#root,
      `${TRASH_PREFIX}${process.pid}-${randomBytes(8).toString('hex')}`,
    )
    try {
      await rename(path, trash)
    } catch (error) {
      if (errno(error) === 'ENOENT') return false
      throw error
    }
    await this.#sync(dirname(path))
    await rm(trash, { recursive: true, force: true })
    await this.#sync(this.#root)
    return true
  }

  /** Remove empty directories from `dir` up to (not including) the root. */
  async #prune(dir: string): Promise<void> {
    let removed: string | undefined
    while (dir !== this.#root && relative(this.#root, dir).split(sep)[0] !== '..') {
      try {
        await rmdir(dir)
      } catch (error) {
        const code = errno(error)
        if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT') break
        throw error
      }
      removed = dir
      dir = dirname(dir)
    }
    if (removed) await this.#sync(dirname(removed))
  }

  /** fsync each directory from the parent of `first` (the first one mkdir created) to `last`. */
  async #syncCreated(first: string, last: string): Promise<void> {
    const dirs = [dirname(first)]
    for (let d = last; d !== dirname(first); d = dirname(d)) dirs.push(d)
    for (const d of dirs) await this.#sync(d)
  }

  async #sync(dir: string): Promise<void> {
    if (this.#options.fsync === false) return
    try {
      await syncDir(dir)
    } catch (error) {
      if (errno(error) !== 'ENOENT') throw error
    }
  }

  async #readdir(dir: string): Promise<Dirent[]> {
    try {
      return await readdir(dir, { withFileTypes: true })
    } catch (error) {
      const code = errno(error)
      if (code === 'ENOENT' || code === 'ENOTDIR') return []
      throw toStorageError(error, 'list')
    }
  }
}

/** Unlink a file; false if it did not exist. */
async function removeFile(path: string): Promise<boolean> {
  try {
    await unlink(path)
    return true
  } catch (error) {
    if (errno(error) === 'ENOENT') return false
    throw error
  }
}

/** The pid in a temp or trash name, or undefined for other names. */
function ownerPid(name: string): number | undefined {
  const match = /^@(?:tmp|trash)-(\d+)-/.exec(name)
  return match ? Number(match[1]) : undefined
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
