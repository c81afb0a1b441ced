/**
 * Storage outages recover without a human: PostgreSQL unreachable mid-run (a TCP proxy in front
 * of it is cut), an fs store remounted read-only and an fs store on a full disk (real tmpfs
 * mounts). Throughout, `/healthz` stays 200 (alive) while `/readyz` answers 503; once storage is
 * back `/readyz` answers 200 and every client's unacknowledged edits drain on their own, without
 * a reconnect; every edit is then stored exactly once.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StorageAdapter } from '@valv/storage'
import { FsStorageAdapter } from '@valv/storage-fs'
import { PostgresStorageAdapter } from '@valv/storage-postgres'
import { cleanup, onCleanup, type Stack, startStack, until } from '@valv/test-utils/stack'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { TcpProxy } from './tcp-proxy.js'
import {
  logDuplicates,
  notExactlyOnce,
  readBack,
  settled,
  type,
  type Writer,
  writers,
} from './team.js'

afterEach(cleanup)

const READINESS = { intervalMs: 200, timeoutMs: 500, retryMs: 50 }

async function status(s: Stack, path: '/healthz' | '/readyz'): Promise<number> {
  return (await fetch(`http://127.0.0.1:${s.relay.address().port}${path}`)).status
}

async function pgUrl(port: number): Promise<string> {
  for (const user of ['postgres', 'root']) {
    const c = new pg.Client({ connectionString: `postgres://${user}@127.0.0.1:5432/test` })
    try {
      await c.connect()
      await c.end()
      return `postgres://${user}@127.0.0.1:${port}/test`
    } catch {
      await c.end().catch(() => undefined)
    }
  }
  throw new Error('PostgreSQL at 127.0.0.1:5432 (database test) is not reachable')
}

/** A tmpfs of `size` mounted on a new directory (unmounted on cleanup). */
function tmpfs(size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'valv-tmpfs-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir])
  onCleanup(() => {
    execFileSync('umount', ['-l', dir])
    rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

/**
 * The scenario every backend runs: edits before, during and after an outage that `down()` starts
 * and `up()` ends; `reopen()` gives a second relay's storage to read back what is durable.
 */
async function outage(
  storage: StorageAdapter,
  down: () => void | Promise<void>,
  up: () => void | Promise<void>,
  reopen: () => StorageAdapter,
  writesFail = true,
) {
  const s = await startStack({ storage, readiness: READINESS })
  const ws = await writers(s.url, 1)
  for (const w of ws) for (let i = 0; i < 3; i++) type(w)
  await settled(ws)
  expect(await status(s, '/readyz')).toBe(200)

  await down()
  const during: Writer[] = ws
  for (let i = 0; i < 10; i++) {
    for (const w of during) type(w)
    await new Promise((r) => setTimeout(r, 20))
  }
  await until(async () => (await status(s, '/readyz')) === 503, 5000, 'readyz 503')
  expect(await status(s, '/healthz')).toBe(200)
  // The edits of the outage wait, unacknowledged, on the clients.
  await until(() => ws.every((w) => w.provider.unsyncedChanges > 0), 5000, 'unacked edits')

  await up()
  await until(async () => (await status(s, '/readyz')) === 200, 10_000, 'readyz 200')
  await settled(ws)
  for (const w of ws) type(w)
  await settled(ws)
  // Recovered on their own: nobody was disconnected.
  expect(ws.map((w) => w.disconnects)).toEqual([0, 0])
  const text = ws[0]?.provider.doc.getText('t').toString() ?? ''
  expect(notExactlyOnce(text, ws)).toEqual([])
  // A frozen store fails no write (they wait); only the probe's timeout sees it.
  expect((s.relay.metrics.rejections.get('storage-failed') ?? 0) > 0).toBe(writesFail)

  // What a fresh relay reads from the same storage: every acknowledged edit exactly once.
  const again = await startStack({ storage: reopen() })
  const stored = await readBack(again.url, ws[0] as Writer)
  expect(notExactlyOnce(stored, ws)).toEqual([])
  expect(stored).toBe(text)
  // And the log holds each acknowledged update once, not a resealed second copy.
  expect(await logDuplicates(again.url, ws[0] as Writer)).toEqual([])
  // A retry is acknowledged or waits; it is never `stale` (which would make the client reseal
  // an update the log may hold already).
  expect(s.relay.metrics.rejections.get('stale') ?? 0).toBe(0)
}

describe('storage outages recover without a human', () => {
  it('PostgreSQL unreachable mid-run (connections reset, new ones refused)', async () => {
    const proxy = await TcpProxy.start(5432)
    onCleanup(() => proxy.close())
    const url = await pgUrl(proxy.port)
    await outage(
      new PostgresStorageAdapter({ connectionString: url }),
      () => proxy.cut(),
      () => proxy.restore(),
      () =>
        new PostgresStorageAdapter({ connectionString: url.replace(`:${proxy.port}/`, ':5432/') }),
    )
  }, 60_000)

  it('PostgreSQL frozen (connections open, no reply): the probe times out', async () => {
    const proxy = await TcpProxy.start(5432)
    onCleanup(() => proxy.close())
    const url = await pgUrl(proxy.port)
    await outage(
      new PostgresStorageAdapter({ connectionString: url }),
      () => proxy.freeze(),
      () => proxy.thaw(),
      () =>
        new PostgresStorageAdapter({ connectionString: url.replace(`:${proxy.port}/`, ':5432/') }),
      false,
    )
  }, 60_000)

  it('an fs store remounted read-only, then read-write', async () => {
    const dir = tmpfs('16m')
    await outage(
      new FsStorageAdapter({ directory: dir }),
      () => void execFileSync('mount', ['-o', 'remount,ro', dir]),
      () => void execFileSync('mount', ['-o', 'remount,rw', dir]),
      () => new FsStorageAdapter({ directory: dir }),
    )
  }, 60_000)

  it('an fs store on a full disk, until space is freed', async () => {
    const dir = tmpfs('4m')
    const filler = join(dir, 'filler')
    await outage(
      new FsStorageAdapter({ directory: dir }),
      () => {
        try {
          // Fill every free block: the write stops with ENOSPC.
          writeFileSync(filler, Buffer.alloc(8 * 1024 * 1024))
        } catch {
          // expected: the disk is full now
        }
      },
      () => rmSync(filler, { force: true }),
      () => new FsStorageAdapter({ directory: dir }),
    )
  }, 60_000)
})
