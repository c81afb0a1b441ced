import { open } from 'node:fs/promises'

/**
 * fsync a directory so that entries created, renamed or removed in it survive a power loss.
 * Renaming a fsynced file is atomic, but the rename itself is only durable once the directory
 * is synced.
 */
export async function syncDir(path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Whether a process with this id is alive (a temp file's owner may still be writing it). */
export function alive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM'
  }
}
