import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { DocumentStore } from '@valv/storage'
import { checkBlob, envelope, snapshotBytes } from '@valv/test-utils/storage-crash'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { SqliteStorageAdapter } from '../src/index.js'

const child = fileURLToPath(new URL('./crash-child.ts', import.meta.url))

/** Run the child until it has acknowledged `acks` appends, then SIGKILL it mid-write. */
async function runAndKill(filename: string, first: number, acks: number): Promise<number[]> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, filename, String(first)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const acked: number[] = []
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()))
  for await (const line of createInterface({ input: proc.stdout })) {
    const [kind, seq] = line.split(' ')
    if (kind === 'ack') acked.push(Number(seq))
    if (acked.length >= acks) {
      proc.kill('SIGKILL')
      break
    }
  }
  await exited
  expect(proc.signalCode).toBe('SIGKILL')
  return acked
}

/** Count rows of a table with a raw connection (also checks the file opens and is intact). */
function inspect(filename: string): { pending: number; orphans: number; integrity: string } {
  const db = new Database(filename)
  try {
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n
    return {
      pending: count('SELECT count(*) AS n FROM valv_pending'),
      orphans: count(
        'SELECT count(*) AS n FROM valv_chunks WHERE blob NOT IN (SELECT blob FROM valv_blobs)',
      ),
      integrity: db.pragma('integrity_check', { simple: true }) as string,
    }
  } finally {
    db.close()
  }
}

describe('SqliteStorageAdapter crash safety', () => {
  it('keeps every acknowledged append across SIGKILL mid-write and opens cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'valv-sqlite-crash-'))
    const filename = join(dir, 'valv.db')
    try {
      let next = 1
      let leftovers = 0
      const acked: number[] = []
      for (const acks of [120, 77, 163]) {
        acked.push(...(await runAndKill(filename, next, acks)))
        const raw = inspect(filename)
        expect(raw.integrity).toBe('ok')
        leftovers += raw.pending
        const adapter = new SqliteStorageAdapter({ filename })
        const store = new DocumentStore(adapter)
        const snap = await store.getSnapshot('doc')
        if (snap) expect(snap.bytes).toEqual(snapshotBytes(snap.seq))
        const covered = snap?.seq ?? 0
        const log = new Map<number, Uint8Array>()
        for await (const e of store.readLog('doc', { from: covered + 1 })) log.set(e.seq, e.bytes)
        for (const seq of acked.filter((s) => s > covered)) {
          expect(log.get(seq), `acknowledged seq ${seq}`).toEqual(envelope(seq))
        }
        const head = (await store.headSeq('doc'))!
        expect(head).toBeGreaterThanOrEqual(Math.max(...acked))
        expect([...log.keys()]).toEqual(
          Array.from({ length: head - covered }, (_, i) => covered + 1 + i),
        )
        const blob = await store.getBlob('doc', 'attachment')
        if (blob) {
          const parts: Uint8Array[] = []
          for await (const part of blob) parts.push(part)
          checkBlob(new Uint8Array(Buffer.concat(parts)))
        }
        await adapter.close()
        // Opening ran recovery: the killed writer's half-written blob chunks are gone.
        expect(inspect(filename)).toEqual({ pending: 0, orphans: 0, integrity: 'ok' })
        next = head + 1
      }
      // The kills did land mid-stream: there were half-written blobs to recover.
      expect(leftovers).toBeGreaterThan(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
