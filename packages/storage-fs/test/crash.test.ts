import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { DocumentStore } from '@valv/storage'
import { checkBlob, envelope, snapshotBytes } from '@valv/test-utils/storage-crash'
import { describe, expect, it } from 'vitest'
import { FsStorageAdapter } from '../src/index.js'

const child = fileURLToPath(new URL('./crash-child.ts', import.meta.url))

/** Run the child until it has acknowledged `acks` appends, then SIGKILL it mid-write. */
async function runAndKill(directory: string, first: number, acks: number): Promise<number[]> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, directory, String(first)], {
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

describe('FsStorageAdapter crash safety', () => {
  it('keeps every acknowledged append across SIGKILL mid-write and opens cleanly', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'valv-fs-crash-'))
    try {
      let next = 1
      let leftovers = 0
      const acked: number[] = []
      for (const acks of [120, 77, 163]) {
        acked.push(...(await runAndKill(directory, next, acks)))
        leftovers += readdirSync(directory).filter((n) => n.startsWith('@tmp-')).length
        const adapter = new FsStorageAdapter({ directory })
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
        // Recovery removed the killed writer's temp files; nothing else is in the root.
        expect(readdirSync(directory).filter((n) => n.startsWith('@'))).toEqual([])
        await adapter.close()
        next = head + 1
      }
      // The kills did land mid-write: temp files existed that recovery had to remove.
      expect(leftovers).toBeGreaterThan(0)
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
  }, 60_000)
})
